// Golden placeholder strings from the reference implementations, for tests/it/manifest.rs.
//
//   cd scripts && npm install --no-save thumbhash@0.1.1 blurhash@2.0.5
//   node scripts/make-placeholder-goldens.mjs > tests/fixtures/placeholders/goldens.json
//
// Each `*.rgba` fixture is raw RGBA, 8 bits a channel, its size in its name (`name-WxH.rgba`);
// made from the bundled samples by scripts/make-placeholder-fixtures.py.
import { readFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, "package.json"));
const { rgbaToThumbHash } = await import(require.resolve("thumbhash"));
const { encode } = require("blurhash");

const folder = join(here, "..", "tests", "fixtures", "placeholders");
const goldens = {};
for (const name of readdirSync(folder).filter((n) => n.endsWith(".rgba")).sort()) {
  const [, w, h] = name.match(/-(\d+)x(\d+)\.rgba$/).map(Number);
  const rgba = new Uint8ClampedArray(readFileSync(join(folder, name)));
  const hash = rgbaToThumbHash(w, h, rgba);
  goldens[name] = {
    thumbhash: Buffer.from(hash).toString("base64").replace(/=+$/, ""),
    blurhash: encode(rgba, w, h, 4, 3),
  };
}
console.log(JSON.stringify(goldens, null, 2));
