// Builds the single-file report with the pinned Allure 3, then takes out the Google Analytics tag (gtag.js) that
// its report templates always add (the awesome plugin hard-codes analyticsEnable: true; only the allure2 plugin
// reads ALLURE_NO_ANALYTICS), so the report makes no network call when it is opened, from a ticket or offline.
//
//   node build.mjs [results] [report]   (defaults: ../reports/allure-results -> ../reports/allure-report)
import { spawnSync } from "node:child_process";
import { readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
// What makes a page call an analytics host. Allure embeds its code and the run's data as base64, where none of
// these can appear (no "." or "("), so only the tag's own script elements match.
const ANALYTICS = /googletagmanager\.com|google-analytics\.com|\bgtag\(/;
const SCRIPT_ELEMENT = /<script\b[^>]*>[\s\S]*?<\/script>[ \t]*\n?/g;

function withoutAnalytics(html) {
  return html.replace(SCRIPT_ELEMENT, (element) => (ANALYTICS.test(element) ? "" : element));
}

function build(results, report) {
  const allure = spawnSync(here("node_modules/.bin/allure"),
    ["generate", results, "--config", here("allurerc.mjs"), "-o", report], { stdio: "inherit" });
  if (allure.error) {
    throw new Error(`cannot run allure (${allure.error.message}); npm ci --prefix report installs it`);
  }
  if (allure.status !== 0) {
    throw new Error(`allure generate exited ${allure.status ?? allure.signal}`);
  }
  const index = join(report, "index.html");
  if (!(statSync(index, { throwIfNoEntry: false })?.size > 0)) {
    throw new Error(`allure generate wrote no ${index}`);
  }
  for (const name of readdirSync(report, { recursive: true }).filter((name) => name.endsWith(".html"))) {
    const page = join(report, name);
    const html = withoutAnalytics(readFileSync(page, "utf8"));
    if (ANALYTICS.test(html)) {  // a new template: fail rather than ship a report that calls out
      throw new Error(`${page} still calls an analytics host; Allure's template changed, update report/build.mjs`);
    }
    writeFileSync(page, html);
  }
}

const [results = here("../reports/allure-results"), report = here("../reports/allure-report")] = process.argv.slice(2);
try {
  build(resolve(results), resolve(report));
} catch (error) {
  console.error(`report build failed: ${error.message}`);
  process.exit(1);
}
