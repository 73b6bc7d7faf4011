// Renders the app's PNG icons (public/icons/) from the SVG sources in icons/ with Debian's
// Chromium through playwright-core, both already used by the browser test, so no image library
// is added. The PNGs are committed: builds and tests never run this. Run it after changing an
// SVG:   npm run icons
//
// icon.svg is the rounded mark (favicon.svg at 512 px); icon-maskable.svg is full-bleed with the
// check inside the central 80 % circle that launchers may crop to; badge.svg is a white check on
// transparent, for the status bar.
import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const ICONS = [
  ['icon.svg', 'icon-192.png', 192],
  ['icon.svg', 'icon-512.png', 512],
  ['icon-maskable.svg', 'icon-maskable-512.png', 512],
  // iOS draws its own rounded corners and ignores transparency, so it gets the full-bleed one.
  ['icon-maskable.svg', 'apple-touch-icon.png', 180],
  // The small monochrome mark Android shows in the status bar for a notification (alpha only).
  ['badge.svg', 'badge-96.png', 96],
];

const src = new URL('../icons/', import.meta.url);
const out = new URL('../public/icons/', import.meta.url);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium' });
try {
  for (const [svg, png, size] of ICONS) {
    const page = await browser.newPage({ viewport: { width: size, height: size }, deviceScaleFactor: 1 });
    const data = Buffer.from(readFileSync(new URL(svg, src))).toString('base64');
    await page.setContent(
      `<style>html,body{margin:0;background:transparent}img{display:block;width:${size}px;height:${size}px}</style>` +
        `<img src="data:image/svg+xml;base64,${data}">`,
    );
    await page.locator('img').evaluate((img) => img.decode());
    await page.screenshot({ path: new URL(png, out).pathname, omitBackground: true });
    await page.close();
    console.log(`icons: public/icons/${png} (${size} px) from icons/${svg}`);
  }
} finally {
  await browser.close();
}
