// Rewrites the ApiVersions example's api list from protocol-spec/apis/*.json, so the worked
// example in SPEC.md always shows exactly what the broker advertises. Run `npm run spec` after.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const directory = 'protocol-spec/apis';
const target = join(directory, '18-api-versions.json');
const apiKeys = readdirSync(directory)
  .filter((name) => name.endsWith('.json'))
  .map((name) => JSON.parse(readFileSync(join(directory, name), 'utf8')))
  .map((spec) => {
    const [minVersion, maxVersion] = spec.versions.split('-').map(Number);
    return { apiKey: spec.apiKey, minVersion, maxVersion };
  })
  .sort((a, b) => a.apiKey - b.apiKey);
const spec = JSON.parse(readFileSync(target, 'utf8'));
spec.example.response.apiKeys = apiKeys;
writeFileSync(target, JSON.stringify(spec, null, 2) + '\n');
console.log(`${target}: example lists ${apiKeys.length} APIs`);
