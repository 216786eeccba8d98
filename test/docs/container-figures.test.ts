import { describe, expect, it } from 'vitest'
import { figuresBlockInDocs, readFigures, renderFigures } from '../support/container-figures.js'

// docs/measurements.md's container figures are generated: `npm run test:containers` measures them, writes
// docs/measurements/containers.json and regenerates the table. A hand edit of either shows here.
describe('the container figures in docs/measurements.md', () => {
  const figures = readFigures()

  it('are the table that docs/measurements/containers.json makes, unedited', () => {
    expect(figuresBlockInDocs()).toBe(renderFigures(figures))
  })

  it('add up: the image is its base plus our layers, and our layers are the ones listed', () => {
    const listed = figures.image.ownLayers.reduce((sum, layer) => sum + layer.bytes, 0)

    expect(figures.image.ownLayersBytes).toBe(listed)
    expect(figures.image.bytes).toBe(figures.base.bytes + figures.image.ownLayersBytes)
    expect(figures.coldStartSeconds.length).toBeGreaterThanOrEqual(3)
  })

  it('were measured on the image the Dockerfile builds now: the bundle, within the 10 MB target', () => {
    const steps = figures.image.ownLayers.map((layer) => layer.step).join('\n')

    expect(steps).toContain('COPY /app/bundle ./dist')
    expect(steps).not.toMatch(/npm ci/)
    expect(figures.image.ownLayersBytes).toBeLessThanOrEqual(10_000_000)
  })
})
