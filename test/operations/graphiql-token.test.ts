import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { type Browser, chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { type RunningService, startService } from '../support/service.js'

// GraphiQL in a real browser against a service with a bearer token: the page loads without it, queries
// fail until the token is typed into GraphiQL's headers editor, then succeed. (Debian's Chromium, which
// .ci/run installs; CHROMIUM_PATH points elsewhere on GitHub's runners.)
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const postgres = inject('postgres')
const TOKEN = randomBytes(32).toString('hex')
let service: RunningService
let browser: Browser | undefined

beforeAll(async () => {
  service = await startService(postgres.app, { authToken: TOKEN, graphiql: true })
  if (existsSync(CHROMIUM)) {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    })
  }
})
afterAll(async () => {
  await browser?.close()
  await service?.close()
})

describe('GraphiQL with a bearer token set', () => {
  it('loads without the token, and runs queries once the token is in its Headers tab', async ({ skip }) => {
    if (!browser) skip(`no Chromium at ${CHROMIUM} (bash .ci/run installs it)`)
    const page = await (browser as Browser).newPage()
    const sent: Array<string | undefined> = []
    page.on('request', (request) => {
      if (request.method() === 'POST' && request.url().endsWith('/graphql'))
        sent.push(request.headers().authorization)
    })
    const text = async (selector: string) =>
      // biome-ignore lint/performance/useDomNodeTextContent: a Playwright locator; the rendered text is the point
      (await page.locator(selector).first().innerText()).replace(/\u00a0/g, ' ')

    const served = await page.goto(`${service.url}/graphql`, { waitUntil: 'load' })
    const run = page.locator('.graphiql-execute-button')
    await run.waitFor({ state: 'visible', timeout: 20_000 })
    await run.click()
    await expect.poll(() => text('.result-window'), { timeout: 15_000 }).toContain('UNAUTHORIZED')

    await page.getByRole('button', { name: 'Headers' }).click()
    const headersEditor = page.locator('.graphiql-editor-tool .graphiql-editor').last()
    await headersEditor.click()
    await page.keyboard.insertText(`{"Authorization": "Bearer ${TOKEN}"}`)
    await run.click()

    await expect.poll(() => text('.result-window'), { timeout: 15_000 }).toContain('"status": "Healthy!"')
    expect(served?.status()).toBe(200)
    expect(await served?.text()).not.toContain(TOKEN)
    expect(sent[0]).toBeUndefined()
    expect(sent.at(-1)).toBe(`Bearer ${TOKEN}`)
    expect(service.rawLogs.join('\n')).not.toContain(TOKEN)
    // GraphiQL keeps headers in the browser only when asked to (shouldPersistHeaders): not by default.
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }))
    expect(stored).not.toContain(TOKEN)
  }, 90_000)
})
