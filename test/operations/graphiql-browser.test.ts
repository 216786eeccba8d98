import { existsSync } from 'node:fs'
import { type Browser, chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { type RunningService, startService } from '../support/service.js'

// Debian's Chromium, which .ci/run installs (GitHub's runners point CHROMIUM_PATH at their Chrome);
// playwright-core downloads no browser of its own.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const postgres = inject('postgres')
let service: RunningService
let browser: Browser | undefined

beforeAll(async () => {
  service = await startService(postgres.app)
  if (existsSync(CHROMIUM)) {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    })
  }
})
afterAll(async () => {
  await browser?.close()
  await service?.close()
})

describe('the GraphQL playground in a real browser', () => {
  it('opens /graphql, runs the prefilled query and shows the health result', async ({ skip }) => {
    if (!browser) skip(`no Chromium at ${CHROMIUM} (bash .ci/run installs it)`)
    const page = await (browser as Browser).newPage()
    const pageErrors: string[] = []
    page.on('pageerror', (error) => pageErrors.push(error.message))

    await page.goto(`${service.url}/graphql`, { waitUntil: 'load' })
    const run = page.locator('.graphiql-execute-button')
    await run.waitFor({ state: 'visible', timeout: 20_000 })
    // The editor renders spaces as non-breaking ones.
    const text = async (locator: ReturnType<typeof page.locator>) =>
      // biome-ignore lint/performance/useDomNodeTextContent: a Playwright locator; the rendered text is the point
      (await locator.innerText()).replace(/\u00a0/g, ' ')
    await expect
      .poll(() => text(page.locator('.graphiql-editor').first()), { timeout: 10_000 })
      .toContain('query Overview')
    await run.click()

    const result = page.locator('.result-window')
    await expect.poll(() => text(result), { timeout: 15_000 }).toContain('"status": "Healthy!"')
    expect(await text(result)).toContain('"numberOfTables"')
    await page.screenshot({ path: '/tmp/graphiql.png' })
    expect(pageErrors).toEqual([])
  })
})
