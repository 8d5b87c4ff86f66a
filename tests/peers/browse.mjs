// Drive Debian's headless Chromium through playwright-core over the web archive.
// Usage: node browse.mjs <index-url> <screenshot.png>
// Opens the index, clicks through to the first issue, and prints JSON: the pages' titles,
// text and links, console errors, page errors, dialogs (an injected alert() would show
// here), failed requests, and where the screenshot went.
import { chromium } from 'playwright-core';

const [indexUrl, screenshot] = process.argv.slice(2);
const report = { pages: [], consoleErrors: [], pageErrors: [], dialogs: [], failed: [] };
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
  page.on('console', (msg) => { if (msg.type() === 'error') report.consoleErrors.push(msg.text()); });
  page.on('pageerror', (err) => report.pageErrors.push(String(err)));
  page.on('dialog', async (dialog) => { report.dialogs.push(dialog.message()); await dialog.dismiss(); });
  page.on('requestfailed', (req) => report.failed.push(`${req.url()} ${req.failure()?.errorText}`));
  page.on('response', (res) => { if (res.status() >= 400) report.failed.push(`${res.url()} ${res.status()}`); });

  const collect = async () => ({
    url: page.url(),
    title: await page.title(),
    text: await page.innerText('body'),
    links: await page.$$eval('a[href]', (as) => as.map((a) => a.href)),
    scripts: await page.$$eval('script', (s) => s.length),
    injected: await page.evaluate(() => typeof window.__xss !== 'undefined'),
  });
  const response = await page.goto(indexUrl, { waitUntil: 'load' });
  report.indexStatus = response ? response.status() : null;
  report.pages.push(await collect());
  await page.screenshot({ path: screenshot.replace(/\.png$/, '-index.png'), fullPage: true });
  await Promise.all([page.waitForLoadState('load'), page.click('.num a')]);
  await page.waitForURL(/\/issues\/\d+/);
  report.pages.push(await collect());
  await page.screenshot({ path: screenshot, fullPage: true });
  report.screenshot = screenshot;
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
