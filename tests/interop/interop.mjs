// Interoperability test: the Community Solid Server (CSS) is the Solid-OIDC identity provider,
// Inrupt's @inrupt/solid-client(-authn-node) is the client, podplane is the resource server.
// Everything runs on loopback. Run it through scripts/interop.sh, or by hand:
//   (cd tests/interop && npm ci) && PODPLANE_BIN=target/debug/podplane node tests/interop/interop.mjs
// Then alice provisions a pod through the provisioning API found in discovery and uses it. Last,
// @inrupt/solid-client-notifications' WebsocketNotification subscribes to a container and must
// receive the Add of a resource created in it.
// Two targets: a `podplane serve` this script starts (embedded mode, the default), or the
// compose stack (INTEROP_STACK=1, after `scripts/stack.sh up` with PODPLANE_STACK_TEST=1): the
// load balancer at PODPLANE_STACK_URL is the server, pods are made with `podplane pod create`
// in the stack's migrate container, and CSS's base URL is the host as the containers see it
// (PODPLANE_STACK_GATEWAY), so the services can fetch its WebIDs, discovery and keys.
// Environment: PODPLANE_BIN (required unless INTEROP_STACK=1), PODPLANE_LOG (passed to
// podplane, e.g. debug), INTEROP_CSS_PORT / INTEROP_PODPLANE_PORT (default: free ports),
// INTEROP_TRACE=1 (log every request to podplane), INTEROP_SERVER_LOG=1 (print podplane's and
// CSS's output at the end).
// Output: one `ok - ...` / `not ok - ...` line per check (with `#` diagnostics); exit 1 on failure.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Session } from '@inrupt/solid-client-authn-node';
import {
  FetchError, buildThing, createSolidDataset, createThing, fromRdfJsDataset,
  getContainedResourceUrlAll, getFile, getIri, getIriAll, getLinkedResourceUrlAll, getResourceInfo,
  getSolidDataset, getStringNoLocale, getThing, getThingAll, getWellKnownSolid, overwriteFile,
  saveSolidDatasetAt, setThing, toRdfJsDataset, universalAccess,
} from '@inrupt/solid-client';
import { WebsocketNotification } from '@inrupt/solid-client-notifications';

const HERE = dirname(fileURLToPath(import.meta.url));
const SCHEMA_NAME = 'https://schema.org/name';
const ACP_ACCESS_CONTROL = 'http://www.w3.org/ns/solid/acp#accessControl';
const t0 = Date.now();
const log = (...a) => console.log(`# [${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const STACK = process.env.INTEROP_STACK === '1';
if (STACK && !(process.env.PODPLANE_STACK_URL && process.env.PODPLANE_STACK_GATEWAY)) {
  console.error('INTEROP_STACK=1 needs PODPLANE_STACK_URL and PODPLANE_STACK_GATEWAY (scripts/stack.sh up prints them)');
  process.exit(2);
}
if (!STACK && !process.env.PODPLANE_BIN) {
  console.error('PODPLANE_BIN must name the podplane binary (scripts/interop.sh sets it)');
  process.exit(2);
}
const PODPLANE_BIN = STACK ? '' : resolve(process.env.PODPLANE_BIN);

// ---------------------------------------------------------------- results
let passed = 0;
let failed = 0;
const diag = (text) => { for (const l of String(text).split('\n')) console.log(`#   ${l}`); };
function report(ok, name, details) {
  console.log(`${ok ? 'ok' : 'not ok'} - ${name}`);
  if (ok) { passed++; return; }
  failed++;
  if (details) diag(details);
  const recent = trace.slice(-6);
  if (recent.length) { diag('last requests to podplane:'); recent.forEach((x) => diag(`  ${x}`)); }
}
// Runs one check: `fn` returns true/false or [bool, detail]; a throw is a failure.
async function check(name, fn) {
  try {
    const r = await fn();
    const [ok, detail] = Array.isArray(r) ? r : [r, undefined];
    report(Boolean(ok), name, ok ? undefined : detail);
    return Boolean(ok);
  } catch (e) {
    report(false, name, describeError(e));
    return false;
  }
}
function describeError(e) {
  if (e instanceof FetchError) {
    let pd = '';
    try { pd = JSON.stringify(e.problemDetails); } catch {}
    return `FetchError ${e.statusCode}: ${e.message}${pd ? `\nproblem details: ${pd}` : ''}`;
  }
  // @inrupt/solid-client-errors' ClientHttpError (solid-client-notifications): the status is
  // not in the message.
  if (e?.problemDetails && typeof e?.response?.status === 'number') {
    return `${e.constructor?.name ?? 'Error'} ${e.response.status} from ${e.response.url}: ${e.message}`
      + `\nbody: ${String(e.response.body ?? '').slice(0, 400)}`;
  }
  const cause = e?.cause ? `\ncause: ${describeError(e.cause)}` : '';
  return `${e?.stack ?? String(e)}${cause}`;
}
// Expects `promise` to reject with a solid-client FetchError of the given status.
async function expectStatus(promise, status) {
  try {
    await promise;
    return [false, `expected FetchError ${status}, the call succeeded`];
  } catch (e) {
    if (e instanceof FetchError && e.statusCode === status) return true;
    return [false, `expected FetchError ${status}, got: ${describeError(e)}`];
  }
}

// ---------------------------------------------------------------- child processes, cleanup
const children = [];
const tempDirs = [];
let cleanedUp = false;
function cleanupSync() {
  if (cleanedUp) return;
  cleanedUp = true;
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of tempDirs) { try { rmSync(d, { recursive: true, force: true }); } catch {} }
}
process.on('exit', cleanupSync);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => { console.log(`# interrupted (${sig})`); cleanupSync(); process.exit(130); });
}
function tempDir(prefix) { const d = mkdtempSync(join(tmpdir(), prefix)); tempDirs.push(d); return d; }
// Keeps the last lines a child printed (for failures) without growing without bound.
function capture(child, label) {
  const lines = [];
  const push = (d) => {
    for (const l of String(d).split('\n')) if (l) lines.push(`${label}: ${l}`);
    if (lines.length > 2000) lines.splice(0, lines.length - 2000);
  };
  child.stdout?.on('data', push);
  child.stderr?.on('data', push);
  return lines;
}
const exited = (c) => c.exitCode !== null || c.signalCode !== null;
async function stop(child, how, timeoutMs = 10_000) {
  if (exited(child)) return;
  const done = new Promise((r) => child.once('exit', r));
  how();
  if (await Promise.race([done.then(() => true), sleep(timeoutMs).then(() => false)])) return;
  child.kill('SIGKILL');
  await done;
}
async function freePort() {
  const srv = createServer();
  await new Promise((r, j) => { srv.once('error', j); srv.listen(0, '127.0.0.1', r); });
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}
async function waitFor(url, child, output, okStatus, timeoutMs = 90_000) {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (exited(child)) throw new Error(`${url}: server exited (${child.exitCode ?? child.signalCode})\n${output.slice(-40).join('\n')}`);
    try { const r = await fetch(url); if (okStatus(r.status)) return; } catch {}
    await sleep(200);
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms\n${output.slice(-40).join('\n')}`);
}

// ---------------------------------------------------------------- request trace
// Inrupt's authenticated fetch calls the global fetch at call time, so wrapping it sees every
// request the libraries (and the anonymous checks) send to podplane.
const trace = [];
let PP_ORIGIN = '';
const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const url = typeof input === 'string' ? input : input.url ?? String(input);
  const res = await realFetch(input, init);
  if (PP_ORIGIN && url.startsWith(PP_ORIGIN)) {
    const method = (init?.method ?? input.method ?? 'GET').toUpperCase();
    const h = new Headers(init?.headers);
    const who = h.get('authorization') ? `${h.get('authorization').split(' ')[0]}` : 'anonymous';
    let line = `${method} ${url} [${who}${h.get('content-type') ? `, ${h.get('content-type')}` : ''}] -> ${res.status}`;
    if (res.status >= 300) {
      const keep = ['link', 'www-authenticate', 'content-type', 'location', 'allow', 'accept-patch', 'wac-allow'];
      const hs = keep.map((k) => res.headers.get(k) && `${k}: ${res.headers.get(k)}`).filter(Boolean);
      let body = '';
      try { body = (await res.clone().text()).slice(0, 400); } catch {}
      line += `\n      ${hs.join('\n      ')}${body ? `\n      body: ${body.replace(/\n/g, ' ')}` : ''}`;
    }
    trace.push(line);
    if (trace.length > 200) trace.splice(0, trace.length - 200);
    if (process.env.INTEROP_TRACE) console.log(`# trace: ${line}`);
  }
  return res;
};

// ---------------------------------------------------------------- 1. CSS + accounts
const CSS_PORT = Number(process.env.INTEROP_CSS_PORT || await freePort());
// CSS listens on every interface; in the stack its URLs must name an address the containers
// reach, and the host reaches it too (the compose network's gateway is the host's own).
const CSS = `http://${STACK ? process.env.PODPLANE_STACK_GATEWAY : 'localhost'}:${CSS_PORT}/`;
const cssDir = tempDir('interop-css-');
// CSS turns every CSS_* environment variable into a CLI option and exits on unknown ones.
const cssEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CSS_')));
const css = spawn(process.execPath, [join(HERE, 'node_modules/@solid/community-server/bin/server.js'),
  '-p', String(CSS_PORT), '-b', CSS, '-c', '@css:config/file.json', '-f', cssDir, '-l', 'warn'],
{ cwd: HERE, env: cssEnv, stdio: ['ignore', 'pipe', 'pipe'] });
children.push(css);
const cssOut = capture(css, 'css');

async function api(url, { method = 'GET', body, auth } = {}) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (auth) headers.authorization = `CSS-Account-Token ${auth}`;
  const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(`${method} ${url} -> ${res.status} ${JSON.stringify(json)}`);
  return json;
}
async function createAccount(name) {
  const email = `${name}@example.org`;
  const password = `${name}-secret-pw`;
  const { controls: c0 } = await api(`${CSS}.account/`);
  const { authorization: a1 } = await api(c0.account.create, { method: 'POST', body: {} });
  const { controls: c1 } = await api(`${CSS}.account/`, { auth: a1 });
  await api(c1.password.create, { method: 'POST', auth: a1, body: { email, password } });
  const { authorization } = await api(c0.password.login, { method: 'POST', body: { email, password } });
  const { controls } = await api(`${CSS}.account/`, { auth: authorization });
  // No settings.webId: CSS creates <pod>/profile/card#me, which names CSS as its oidcIssuer.
  const pod = await api(controls.account.pod, { method: 'POST', auth: authorization, body: { name } });
  const cc = await api(controls.account.clientCredentials, {
    method: 'POST', auth: authorization, body: { name: `${name}-token`, webId: pod.webId } });
  return { name, webId: pod.webId, clientId: cc.id, clientSecret: cc.secret };
}

// ---------------------------------------------------------------- 2. podplane
const run = promisify(execFile);
// Only PODPLANE_LOG gets through: other PODPLANE_*/INRUPT_* variables could change the setup.
const ppEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) =>
  k === 'PODPLANE_LOG' || !(k.startsWith('PODPLANE_') || k.startsWith('INRUPT_'))));
// The server under test: { origin, ready, createPod(name, owner, access), logs(), stop() }.
const target = STACK ? stackTarget() : await localTarget();
const PP = target.origin;
PP_ORIGIN = PP;

async function localTarget() {
  const port = Number(process.env.INTEROP_PODPLANE_PORT || await freePort());
  const origin = `http://localhost:${port}`;
  const dir = tempDir('interop-podplane-');
  const child = spawn(PODPLANE_BIN, ['serve', '--data-dir', dir, '--listen', `127.0.0.1:${port}`,
    '--base-url', origin, '--allow-private-fetch', '--exit-on-stdin-eof'],
  { env: ppEnv, stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  const output = capture(child, 'podplane');
  return {
    origin,
    describe: `${origin} (embedded, data ${dir})`,
    ready: () => waitFor(`http://127.0.0.1:${port}/health/ready`, child, output, (s) => s === 200),
    createPod: (name, owner, access) => run(PODPLANE_BIN, ['pod', 'create', name, '--owner', owner,
      '--access', access, '--data-dir', dir, '--base-url', origin], { env: ppEnv }),
    logs: async () => output,
    stop: async () => { await stop(child, () => child.stdin.end()); return `${child.exitCode ?? child.signalCode}`; },
  };
}

function stackTarget() {
  const origin = process.env.PODPLANE_STACK_URL.replace(/\/$/, '');
  const stack = (...args) => run('bash', [join(HERE, '../../scripts/stack.sh'), 'compose', ...args],
    { env: process.env, maxBuffer: 16 << 20 });
  return {
    origin,
    describe: `${origin} (the compose stack)`,
    ready: async () => {
      const r = await fetch(`${origin}/health/ready`);
      if (r.status !== 200) throw new Error(`${origin}/health/ready -> ${r.status}`);
    },
    // The administrative command, where an operator of the stack runs it.
    createPod: (name, owner, access) => stack('run', '--rm', '-T', 'migrate', 'pod', 'create', name,
      '--owner', owner, '--access', access),
    logs: async () => {
      try {
        const { stdout } = await stack('logs', '--no-color', '--tail', '40', 'storage-1', 'storage-2', 'notifications');
        return stdout.split('\n').filter(Boolean);
      } catch (e) { return [`compose logs failed: ${e.message}`]; }
    },
    stop: async () => 'left running',
  };
}

let exitCode = 1;
try {
  log(`CSS ${CSS} (data ${cssDir}); podplane ${target.describe}`);
  await Promise.all([waitFor(`${CSS}.account/`, css, cssOut, (s) => s === 200), target.ready()]);
  log('CSS and podplane are up');
  const alice = await createAccount('alice');
  const bob = await createAccount('bob');
  log(`accounts: ${alice.webId}, ${bob.webId}`);

  // ---------------------------------------------------------------- 3. pods on podplane
  // The stack outlives this run (and other tests write to it): its pod names are unique.
  const podName = (access) => (STACK ? `alice-${access}-${t0.toString(36)}` : `alice-${access}`);
  for (const access of ['acp', 'wac']) {
    await check(`podplane pod create ${podName(access)} --access ${access}`, async () => {
      await target.createPod(podName(access), alice.webId, access);
      return true;
    });
  }

  // ---------------------------------------------------------------- 4. sessions and checks
  async function login(acc) {
    const s = new Session({ keepAlive: false });
    await s.login({ clientId: acc.clientId, clientSecret: acc.clientSecret, oidcIssuer: CSS, tokenType: 'DPoP' });
    return s;
  }
  const sa = await login(alice);
  const sb = await login(bob);
  await check(`alice and bob log in at CSS with client credentials (DPoP)`, () => [
    sa.info.isLoggedIn && sa.info.webId === alice.webId && sb.info.isLoggedIn && sb.info.webId === bob.webId,
    `alice: ${JSON.stringify(sa.info)}\nbob: ${JSON.stringify(sb.info)}`]);
  const asAlice = { fetch: sa.fetch };
  const asBob = { fetch: sb.fetch };

  for (const access of ['acp', 'wac']) {
    const pod = `${PP}/${podName(access)}/`;
    const tag = `[${access}]`;
    // The CLI's pod shows up in the running server within a couple of seconds.
    const deadline = Date.now() + 10_000;
    let rootStatus = 0;
    while (Date.now() < deadline) {
      rootStatus = (await sa.fetch(pod, { method: 'HEAD' })).status;
      if (rootStatus === 200) break;
      await sleep(250);
    }
    await check(`${tag} alice reaches her pod root ${pod}`, () => [rootStatus === 200, `last status ${rootStatus}`]);

    const dir = `${pod}interop/`;
    const fileUrl = `${dir}hello.txt`;
    const dataUrl = `${dir}data`;
    const text = `hello from alice on ${access}\n`;
    const name = `Alice's ${access.toUpperCase()} thing`;

    // a. write
    await check(`${tag} overwriteFile ${fileUrl}`, async () => {
      await overwriteFile(fileUrl, new Blob([text], { type: 'text/plain' }), { contentType: 'text/plain', ...asAlice });
      return true;
    });
    await check(`${tag} saveSolidDatasetAt ${dataUrl}`, async () => {
      const thing = buildThing(createThing({ name: 'it' })).addStringNoLocale(SCHEMA_NAME, name).build();
      await saveSolidDatasetAt(dataUrl, setThing(createSolidDataset(), thing), asAlice);
      return true;
    });
    // b. read
    await check(`${tag} getFile returns the text`, async () => {
      const got = await (await getFile(fileUrl, asAlice)).text();
      return [got === text, `got ${JSON.stringify(got)}`];
    });
    await check(`${tag} getSolidDataset returns schema:name`, async () => {
      const ds = await getSolidDataset(dataUrl, asAlice);
      const got = getStringNoLocale(getThing(ds, `${dataUrl}#it`), SCHEMA_NAME);
      return [got === name, `got ${JSON.stringify(got)}`];
    });
    // c. list
    await check(`${tag} container lists both resources`, async () => {
      const listed = getContainedResourceUrlAll(await getSolidDataset(dir, asAlice));
      return [listed.includes(fileUrl) && listed.includes(dataUrl), `listed ${JSON.stringify(listed)}`];
    });
    // d. anonymous
    await check(`${tag} anonymous GET of the file is 401`, async () => {
      const r = await fetch(fileUrl);
      return [r.status === 401, `status ${r.status}, www-authenticate: ${r.headers.get('www-authenticate')}`];
    });
    // e. bob without access
    await check(`${tag} bob's getFile is refused with 403`, () => expectStatus(getFile(fileUrl, asBob), 403));
    // f. alice grants bob read
    await check(`${tag} universalAccess.setAgentAccess(bob, read) succeeds`, async () => {
      const r = await universalAccess.setAgentAccess(fileUrl, bob.webId, { read: true }, asAlice);
      return [r !== null, `returned ${JSON.stringify(r)}`];
    });
    await check(`${tag} universalAccess.getAgentAccess(bob) reports read`, async () => {
      const r = await universalAccess.getAgentAccess(fileUrl, bob.webId, asAlice);
      return [r?.read === true, `returned ${JSON.stringify(r)}`];
    });
    await check(`${tag} bob can now read the file`, async () => {
      const got = await (await getFile(fileUrl, asBob)).text();
      return [got === text, `got ${JSON.stringify(got)}`];
    });
    if (access === 'acp') {
      // Inrupt's e2e test for acp_ess_2: a resource just made in a new container shows, in its
      // ACR's own node, exactly one acp:accessControl (the one the pod root gives members).
      await check(`${tag} a new resource's ACR names exactly one access control, as on ESS`, async () => {
        const fresh = `${pod}interop/fresh-${t0.toString(36)}/new.txt`;
        await overwriteFile(fresh, new Blob(['new']), { contentType: 'text/plain', ...asAlice });
        const acrUrl = getLinkedResourceUrlAll(await getResourceInfo(fresh, asAlice)).acl?.[0];
        const acr = await getSolidDataset(acrUrl, asAlice);
        const controls = getIriAll(getThing(acr, acrUrl), ACP_ACCESS_CONTROL);
        return [controls.length === 1 && controls[0].startsWith(pod), `access controls: ${JSON.stringify(controls)}`];
      });
      // As Inrupt's own e2e test does after universalAccess wrote an ACR: read it, rebuild it as
      // a new dataset and save it (a PUT with If-None-Match: *, which ESS accepts on an ACR).
      await check(`${tag} the ACR universalAccess wrote can be rebuilt and saved again`, async () => {
        const acrUrl = getLinkedResourceUrlAll(await getResourceInfo(fileUrl, asAlice)).acl?.[0];
        if (!acrUrl) return [false, 'no rel="acl" link'];
        const rebuilt = fromRdfJsDataset(toRdfJsDataset(await getSolidDataset(acrUrl, asAlice)));
        await saveSolidDatasetAt(acrUrl, rebuilt, asAlice);
        const got = await (await getFile(fileUrl, asBob)).text();
        return [got === text, `bob got ${JSON.stringify(got)} after the save`];
      });
    }
    await check(`${tag} bob's overwriteFile is refused with 403`, () => expectStatus(
      overwriteFile(fileUrl, new Blob(['bob was here']), { contentType: 'text/plain', ...asBob }), 403));
    // g. public read of the dataset
    await check(`${tag} universalAccess.setPublicAccess(read) on the dataset succeeds`, async () => {
      const r = await universalAccess.setPublicAccess(dataUrl, { read: true }, asAlice);
      return [r !== null, `returned ${JSON.stringify(r)}`];
    });
    await check(`${tag} anonymous GET of the dataset is 200`, async () => {
      const r = await fetch(dataUrl, { headers: { accept: 'text/turtle' } });
      const body = await r.text();
      return [r.status === 200 && body.includes(`${access.toUpperCase()} thing`), `status ${r.status}, body ${body.slice(0, 300)}`];
    });
  }

  // ---------------------------------------------------------------- 4b. provisioning
  // As an ESS app provisions a pod for its user: find `solid:provision` in the origin's
  // discovery document (solid-client's getWellKnownSolid), POST to it with alice's DPoP fetch,
  // read `storage` from the JSON answer, use the new pod, and find it in `GET {provision}list`.
  const SOLID_PROVISION = 'http://www.w3.org/ns/solid/terms#provision';
  let provisioned = null;
  await check('getWellKnownSolid names a provisioning endpoint; POST to it as alice makes a pod (201, {"storage"})', async () => {
    const discovery = await getWellKnownSolid(`${PP}/`);
    // The document's subject is a blank node, as ESS's is.
    const endpoint = getThingAll(discovery, { acceptBlankNodes: true })
      .map((t) => getIri(t, SOLID_PROVISION)).find(Boolean);
    if (!endpoint) return [false, 'no solid:provision in /.well-known/solid'];
    const r = await sa.fetch(endpoint, { method: 'POST' });
    const body = await r.json().catch(() => ({}));
    provisioned = { endpoint, storage: body.storage };
    return [r.status === 201 && typeof body.storage === 'string' && r.headers.get('location') === body.storage,
      `status ${r.status}, location ${r.headers.get('location')}, body ${JSON.stringify(body)}`];
  });
  if (provisioned?.storage) {
    const { endpoint, storage } = provisioned;
    const dataUrl = `${storage}provisioned/data`;
    await check('saveSolidDatasetAt and getSolidDataset in the provisioned pod', async () => {
      const thing = buildThing(createThing({ name: 'it' })).addStringNoLocale(SCHEMA_NAME, 'provisioned').build();
      await saveSolidDatasetAt(dataUrl, setThing(createSolidDataset(), thing), asAlice);
      const got = getStringNoLocale(getThing(await getSolidDataset(dataUrl, asAlice), `${dataUrl}#it`), SCHEMA_NAME);
      return [got === 'provisioned', `got ${JSON.stringify(got)}`];
    });
    await check("bob's getSolidDataset in alice's provisioned pod is refused with 403",
      () => expectStatus(getSolidDataset(dataUrl, asBob), 403));
    await check(`GET ${endpoint}list lists the provisioned pod for alice, not for bob`, async () => {
      const mine = await (await sa.fetch(`${endpoint}list`)).json();
      const bobs = await (await sb.fetch(`${endpoint}list`)).json();
      return [mine.includes(storage) && !bobs.includes(storage), `alice: ${JSON.stringify(mine)}, bob: ${JSON.stringify(bobs)}`];
    });
  }

  // ---------------------------------------------------------------- 5. notifications
  // WebsocketNotification discovers the gateway in `{origin}/.well-known/solid` (anonymous GET,
  // Accept: text/turtle), POSTs {"protocols":["ws"],"features":[]} to the gateway and
  // {"topic": container} to the subscription endpoint it names (both with alice's DPoP fetch,
  // both must answer 200), then opens `new WebSocket(endpoint, subprotocol)` (the `ws` package)
  // and emits every JSON text frame as a "message".
  const idsOf = (v) => (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v])
    .map((x) => (typeof x === 'string' ? x : x?.id ?? x?.['@id']))
    .filter((x) => typeof x === 'string');
  const typesOf = (m) => idsOf(m?.type ?? m?.['@type']).map((t) => t.replace(/^.*[#:/]/, ''));
  const within = (promise, ms, what) => {
    let timer;
    const timeout = new Promise((_, j) => { timer = setTimeout(() => j(new Error(`${what}: nothing within ${ms} ms`)), ms); });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  };
  for (const access of ['acp', 'wac']) {
    const dir = `${PP}/${podName(access)}/interop/`;
    const created = `${dir}notified.txt`;
    await check(`[${access}] @inrupt/solid-client-notifications WebsocketNotification receives a container's Add`, async () => {
      const socket = new WebsocketNotification(dir, { fetch: sa.fetch });
      const messages = [];
      const events = [];
      let wanted;
      const arrived = new Promise((r) => { wanted = r; });
      socket.on('message', (m) => {
        messages.push(m);
        const types = typesOf(m);
        const named = [...idsOf(m?.object), ...idsOf(m?.target)];
        if ((types.includes('Add') || types.includes('Create'))
          && (named.includes(created) || named.includes(dir))) wanted(m);
      });
      // Without an "error" listener the library's EventEmitter would throw from the ws callback.
      socket.on('error', (e) => events.push(`error: ${e?.message ?? e?.error?.message ?? String(e)}`));
      socket.on('closed', () => events.push('closed'));
      const connected = new Promise((r, j) => {
        socket.once('connected', r);
        socket.once('error', (e) => j(new Error(`WebSocket error before "connected": ${e?.message ?? e}`)));
        socket.once('closed', () => j(new Error('WebSocket closed before "connected"')));
      });
      connected.catch(() => {});
      const detail = (why) => [
        why,
        `websocket: ${socket.websocket ? `${socket.websocket.url} (subprotocol ${JSON.stringify(socket.websocket.protocol)})` : 'none'}, status ${socket.status}`,
        `events: ${JSON.stringify(events)}`,
        `messages (${messages.length}):`, ...messages.map((m) => `  ${JSON.stringify(m)}`),
      ].join('\n');
      try {
        try {
          await within(socket.connect(), 10_000, 'connect()');
          await within(connected, 10_000, 'the "connected" event');
        } catch (e) {
          // What the library's discovery saw (its own parse error is swallowed).
          let wk = '';
          try {
            const r = await fetch(`${PP}/.well-known/solid`, { headers: { accept: 'text/turtle' } });
            wk = `GET ${PP}/.well-known/solid (Accept: text/turtle) -> ${r.status} ${r.headers.get('content-type')}\n${(await r.text()).slice(0, 600)}`;
          } catch (e2) { wk = `GET /.well-known/solid failed: ${e2}`; }
          return [false, detail(`${describeError(e)}\n${wk}`)];
        }
        await overwriteFile(created, new Blob([`notify ${access}\n`], { type: 'text/plain' }),
          { contentType: 'text/plain', ...asAlice });
        try {
          await within(arrived, 10_000, `an Add/Create naming ${created} or ${dir}`);
        } catch (e) {
          return [false, detail(e.message)];
        }
        return true;
      } finally {
        socket.disconnect();
      }
    });
  }

  await sa.logout();
  await sb.logout();
  exitCode = failed ? 1 : 0;
} catch (e) {
  console.log(`not ok - setup: ${e?.message ?? e}`);
  diag(describeError(e));
  failed++;
} finally {
  // ---------------------------------------------------------------- 6. teardown
  const ppExit = await target.stop();
  await stop(css, () => css.kill('SIGTERM'));
  if (failed || process.env.INTEROP_SERVER_LOG) {
    const ppOut = await target.logs();
    const lines = process.env.INTEROP_SERVER_LOG ? [...ppOut, ...cssOut] : [...ppOut.slice(-60), ...cssOut.slice(-20)];
    if (lines.length) { console.log('# --- server output (tail) ---'); lines.forEach((l) => console.log(`# ${l}`)); }
  }
  log(`podplane: ${ppExit}, CSS exited (${css.exitCode ?? css.signalCode})`);
  cleanupSync();
  console.log(`# ${passed} passed, ${failed} failed, ${((Date.now() - t0) / 1000).toFixed(1)}s`);
}
process.exit(failed ? 1 : exitCode);
