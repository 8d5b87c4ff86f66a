// Open a 公众号 copy page (/issues/<n>/mp) in Debian's headless Chromium, press 「复制到公众号」
// and print JSON: the article's headings, its links, elements with a class or <style>, its
// HTML length, the copied clipboard HTML, the status line, and page/console errors.
// Usage: node mp_page.mjs <url> <screenshot.png>
import { chromium } from 'playwright-core';

const [url, screenshot] = process.argv.slice(2);
const report = { consoleErrors: [], pageErrors: [], failed: [] };
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(url).origin });
  const page = await context.newPage();
  page.on('console', (msg) => { if (msg.type() === 'error') report.consoleErrors.push(msg.text()); });
  page.on('pageerror', (err) => report.pageErrors.push(String(err)));
  page.on('requestfailed', (req) => report.failed.push(`${req.url()} ${req.failure()?.errorText}`));
  const response = await page.goto(url, { waitUntil: 'load' });
  report.status = response ? response.status() : null;
  report.headings = await page.$$eval('#article h2', (hs) => hs.map((h) => h.innerText.trim()));
  report.links = await page.$$eval('#article a', (as) => as.map((a) => a.outerHTML));
  report.classed = await page.$$eval('#article [class], #article style, #article script', (es) => es.length);
  report.unstyled = await page.$$eval('#article h2, #article h3, #article p', (es) => es.filter((e) => !e.getAttribute('style')).length);
  report.h2Color = await page.$eval('#article h2', (h) => getComputedStyle(h).color);
  report.articleHtml = await page.$eval('#article', (a) => a.innerHTML.length);
  report.articleText = await page.$eval('#article', (a) => a.innerText);
  await page.click('#copy');
  await page.waitForFunction(() => document.getElementById('status').textContent.length > 0);
  report.statusText = await page.$eval('#status', (s) => s.textContent);
  report.clipboard = await page.evaluate(async () => {
    const items = await navigator.clipboard.read();
    for (const item of items) {
      if (item.types.includes('text/html')) return await (await item.getType('text/html')).text();
    }
    return null;
  });
  await page.screenshot({ path: screenshot, fullPage: true });
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
