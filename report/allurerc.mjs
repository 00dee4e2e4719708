// Allure 3 report of the acceptance suite: one self-contained HTML file, reports/allure-report/index.html.
// Build it with `make report` or `npm --prefix report run build` (after `npm --prefix report ci`).
import { defineConfig } from "allure";

export default defineConfig({
  name: "LLM platform acceptance",
  output: "../reports/allure-report",
  plugins: {
    awesome: {
      options: {
        reportName: "LLM platform acceptance",
        singleFile: true,
        groupBy: ["epic", "feature", "story"],
      },
    },
  },
  // allure-behave marks an AssertionError as failed and any other exception as broken.
  categories: [
    { name: "Product failures", matchers: { statuses: ["failed"] } },
    { name: "Infrastructure errors", matchers: { statuses: ["broken"] } },
  ],
});
