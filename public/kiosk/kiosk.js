// The photobox kiosk: choose a location → a QRIS drawn from the transaction's QRIS string, with a countdown →
// poll at once and then every 3 s until the payment is final (or 15 minutes pass) → success or expired screen.
// The kiosk authenticates with its kiosk key (a photobox API key), kept in this browser's localStorage; it can be
// handed over once in the address: /kiosk#key=lk_…  With response encryption on, the polling answers are
// `{"data": base64}` (AES-256-CBC, as the seed document specifies): the kiosk checks their x-loket-signature and
// decrypts them with WebCrypto, using the key material /api/v1/kiosk/config gives to a kiosk key.
import { renderSVG } from '/kiosk/uqr.mjs';

const STORE = 'loket.kiosk.key';
const $ = (id) => document.getElementById(id);
const screens = ['setup', 'choose', 'pay', 'success', 'expired'];
const utf8 = (s) => new TextEncoder().encode(s);
const unbase64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

let config = null;
let timers = [];
/** The external id of the transaction on the pay screen (what "Batal" cancels). */
let current = null;

function show(name) {
  for (const s of screens) $(s).hidden = s !== name;
  document.body.dataset.screen = name;
}

function fail(message) {
  const el = $('error');
  el.textContent = message;
  el.hidden = !message;
}

function stopTimers() {
  for (const t of timers) clearInterval(t);
  timers = [];
}

function kioskKey() {
  const m = /(?:^#|&)key=([^&]+)/.exec(location.hash);
  if (m) {
    localStorage.setItem(STORE, decodeURIComponent(m[1]));
    history.replaceState(null, '', location.pathname);
  }
  return localStorage.getItem(STORE);
}

async function api(path, init = {}) {
  const res = await fetch(path, {
    ...init,
    headers: { 'x-api-key': kioskKey() ?? '', ...(init.body ? { 'content-type': 'application/json' } : {}) },
  });
  if (res.status === 401) {
    localStorage.removeItem(STORE);
    show('setup');
    throw new Error('Kunci kios tidak berlaku. Masukkan kunci baru.');
  }
  const body = await res.json();
  if (!res.ok) throw new Error(body.message ?? `Gagal (${res.status})`);
  return { body, res };
}

// ---- encrypted answers (docs/PHOTOBOX.md explains the scheme) ----
let cryptoKeys = null;
async function keys() {
  if (cryptoKeys) return cryptoKeys;
  const { key, iv } = config.encryption;
  const aes = await crypto.subtle.importKey('raw', utf8(key), 'AES-CBC', false, ['decrypt']);
  const ikm = await crypto.subtle.importKey('raw', utf8(key), 'HKDF', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits(
    { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(), info: utf8('loket:photobox-response-hmac') },
    ikm,
    256,
  );
  const mac = await crypto.subtle.importKey('raw', bits, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
  cryptoKeys = { aes, mac, iv: utf8(iv) };
  return cryptoKeys;
}

async function readSealed(body, res) {
  if (typeof body.data !== 'string' || Object.keys(body).length !== 1) return body;
  if (!config.encryption) throw new Error('Jawaban terenkripsi, tetapi kios tidak punya kuncinya');
  const k = await keys();
  const signature = /^v1=(.+)$/.exec(res.headers.get('x-loket-signature') ?? '')?.[1];
  if (!signature || !(await crypto.subtle.verify('HMAC', k.mac, unbase64(signature), utf8(body.data)))) {
    throw new Error('Jawaban server tidak sah (tanda tangan salah)');
  }
  const plain = await crypto.subtle.decrypt({ name: 'AES-CBC', iv: k.iv }, k.aes, unbase64(body.data));
  return JSON.parse(new TextDecoder().decode(plain));
}

// ---- screens ----
async function choose() {
  stopTimers();
  fail('');
  show('choose');
  const { body } = await api('/api/v1/locations?limit=1000');
  const list = $('locations');
  list.replaceChildren();
  for (const loc of body.data.filter((l) => l.ml_is_active !== false)) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = loc.ml_name;
    b.dataset.locationId = String(loc.ml_id);
    b.addEventListener('click', () => pay(loc).catch((e) => fail(e.message)));
    list.append(b);
  }
  if (list.childElementCount === 0) fail('Belum ada lokasi aktif.');
}

async function pay(location) {
  fail('');
  const { body } = await api('/api/v1/transactions', {
    method: 'POST',
    body: JSON.stringify({ location_id: location.ml_id }),
  });
  const tr = body.data;
  $('qr').innerHTML = renderSVG(tr.tr_qris_string, { ecc: 'M', border: 2 });
  $('amount').textContent = `Rp ${Number(tr.tr_amount).toLocaleString('id-ID')}`;
  $('reference').textContent = tr.tr_external_id;
  $('qr').dataset.qris = tr.tr_qris_string;
  show('pay');

  // The server's own validity (15 minutes), counted on this clock: both ends of it come from the server.
  const ttl = Date.parse(tr.tr_expired_at) - Date.parse(tr.tr_created_at);
  const deadline = Date.now() + (Number.isFinite(ttl) && ttl > 0 ? ttl : config.max_wait_ms);
  const tick = () => {
    const left = Math.max(0, deadline - Date.now());
    const m = Math.floor(left / 60_000);
    const s = Math.floor((left % 60_000) / 1000);
    $('countdown').textContent = `${m}:${String(s).padStart(2, '0')}`;
  };
  tick();
  timers.push(setInterval(tick, 1000));

  let busy = false;
  const poll = async () => {
    if (busy) return;
    busy = true;
    try {
      const { body: raw, res } = await api(`/api/v1/transactions/external/${encodeURIComponent(tr.tr_external_id)}`);
      const status = (await readSealed(raw, res)).data?.tr_status;
      if (status === 'COMPLETED') finish('success');
      else if (status === 'EXPIRED' || status === 'FAILED') finish('expired', status);
      else if (Date.now() > deadline + config.poll_interval_ms) finish('expired', 'EXPIRED');
    } catch (e) {
      fail(e.message);
    } finally {
      busy = false;
    }
  };
  // The first answer at once (a payment made while the QR was drawn shows without waiting a period), then each period.
  current = tr.tr_external_id;
  poll();
  timers.push(setInterval(poll, config.poll_interval_ms));
}

// "Batal": the server closes the QR code and the transaction becomes EXPIRED; one already paid is refused (409)
// and shown as paid.
async function cancel() {
  const id = current;
  stopTimers();
  current = null;
  if (id) {
    const res = await fetch(`/api/v1/transactions/${encodeURIComponent(id)}/cancel`, {
      method: 'POST',
      headers: { 'x-api-key': kioskKey() ?? '' },
    });
    if (res.status === 409) {
      finish('success');
      return;
    }
  }
  await choose();
}

function finish(screen, status) {
  stopTimers();
  current = null;
  if (screen === 'expired') {
    $('expired-title').textContent = status === 'FAILED' ? 'Pembayaran gagal' : 'Waktu pembayaran habis';
  }
  show(screen);
}

async function start() {
  stopTimers();
  if (!kioskKey()) {
    show('setup');
    return;
  }
  const { body } = await api('/api/v1/kiosk/config');
  config = body.data;
  cryptoKeys = null;
  await choose();
}

$('setup-form').addEventListener('submit', (e) => {
  e.preventDefault();
  localStorage.setItem(STORE, $('setup-key').value.trim());
  start().catch((err) => fail(err.message));
});
$('cancel').addEventListener('click', () => cancel().catch((e) => fail(e.message)));
$('again-success').addEventListener('click', () => choose().catch((e) => fail(e.message)));
$('again-expired').addEventListener('click', () => choose().catch((e) => fail(e.message)));
start().catch((e) => fail(e.message));
