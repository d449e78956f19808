// Signs a payload with the reference Standard Webhooks library (npm `standardwebhooks`) and
// prints the headers as JSON: node sign.mjs <secret> <msg-id> <unix-seconds> <payload>
import { Webhook } from 'standardwebhooks';

const [secret, msgId, seconds, payload] = process.argv.slice(2);
const signature = new Webhook(secret).sign(msgId, new Date(Number(seconds) * 1000), payload);
console.log(JSON.stringify({ 'webhook-id': msgId, 'webhook-timestamp': seconds, 'webhook-signature': signature }));
