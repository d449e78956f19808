// Signing one Standard Webhooks request for k6 scripts (one helper, used by every script here).
import crypto from 'k6/crypto';
import encoding from 'k6/encoding';

const SYMBOLS = ['AAPL', 'MSFT', 'NVDA', 'BTCUSD'];

/**
 * The key of a `whsec_<base64>` secret.
 * @param {string} secret
 * @returns {ArrayBuffer}
 */
export function keyOf(secret) {
  return encoding.b64decode(secret.replace(/^whsec_/, ''));
}

/**
 * A uniquely identified, signed webhook: the body and its headers. Every call has its own
 * webhook-id, so the gateway never sees a replay.
 * @param {ArrayBuffer} key
 * @param {string} prefix id prefix, e.g. the script's name
 * @param {number} vu
 * @param {number} iter
 * @returns {{body: string, headers: Record<string, string>}}
 */
export function signedWebhook(key, prefix, vu, iter) {
  const id = `${prefix}_${vu}_${iter}_${Date.now()}`;
  const ts = Math.floor(Date.now() / 1000).toString();
  const body = JSON.stringify({
    symbol: SYMBOLS[iter % SYMBOLS.length],
    action: iter % 2 ? 'buy' : 'sell',
    qty: 1 + (iter % 10),
  });
  const signature = crypto.hmac('sha256', key, `${id}.${ts}.${body}`, 'base64');
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': ts,
      'webhook-signature': `v1,${signature}`,
    },
  };
}
