// Prepares the browser tests (the CTest fixture e2e_setup): checks the browser, and installs
// the locked packages of package-lock.json (playwright-core; ws, the echo server of the
// endpoints test) with `npm ci` (from npm's cache when it has it) into the folder given as
// the first argument (CTest: the build tree; default: this folder), unless its node_modules
// already holds exactly the locked versions.
//
//   node tests/e2e/setup.mjs [DIR]
//
// Exit 77 (skipped) with SB_TEST_NO_BROWSER=1; non-zero when something is missing.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const target = path.resolve(process.argv[2] || here);

if (process.env.SB_TEST_NO_BROWSER === '1') {
  console.log('SB_TEST_NO_BROWSER=1: browser tests skipped');
  process.exit(77);
}

const chromium = process.env.SB_CHROMIUM || '/usr/bin/chromium';
if (!existsSync(chromium)) {
  console.error(`e2e setup: no browser at ${chromium}. Install Debian's chromium ` +
    '(bash scripts/install-deps.sh with SWITCHBOARD_EXTRA_PACKAGES=chromium; scripts/test.sh ' +
    'does it), or set SB_TEST_NO_BROWSER=1 to skip the browser tests.');
  process.exit(1);
}
const [major] = process.versions.node.split('.').map(Number);
if (major < 20) {
  console.error(`e2e setup: playwright-core needs Node.js 20 or later; this is ${process.version}`);
  process.exit(1);
}

if (target !== here) {
  mkdirSync(target, { recursive: true });
  for (const name of ['package.json', 'package-lock.json']) {
    copyFileSync(path.join(here, name), path.join(target, name));
  }
}
const lock = JSON.parse(readFileSync(path.join(target, 'package-lock.json'), 'utf8'));
// Every locked package at its locked version, else npm ci (which installs them all).
const locked = Object.entries(lock.packages)
  .filter(([key]) => key.startsWith('node_modules/'))
  .map(([key, entry]) => ({ name: key.slice('node_modules/'.length), wanted: entry.version }));
const installedVersion = (name) => {
  const file = path.join(target, 'node_modules', name, 'package.json');
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')).version : null;
};
const stale = locked.filter(({ name, wanted }) => installedVersion(name) !== wanted);
const list = (packages) => packages.map(({ name, wanted }) => `${name} ${wanted}`).join(', ');
if (stale.length === 0) {
  console.log(`e2e setup: ${list(locked)} already installed`);
} else {
  const replacing = stale
    .filter(({ name }) => installedVersion(name))
    .map(({ name }) => `${name} ${installedVersion(name)}`);
  console.log(`e2e setup: npm ci in ${target} (${list(stale)}` +
    `${replacing.length ? `, replacing ${replacing.join(', ')}` : ''})`);
  execFileSync('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: target,
    stdio: 'inherit',
    // playwright-core downloads no browser; the tests drive Debian's chromium.
    env: { ...process.env, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1' },
  });
}
console.log(`e2e setup: ready (${chromium}, Node.js ${process.version})`);
