// `npm run bench:ingest`: bulk ingestion through the whole stack (HTTP, token check, NDJSON framing,
// zod, set-based upserts under RLS, audit per chunk) against a service in a child process of its
// own, so its peak RSS (VmHWM) is the service's alone. Target (issue 12): ≥ 50,000 records a minute.
//
// Four uploads to one tenant: a warm-up of N/4 records, N new records (inserts), the same N again
// (all unchanged), then 2N new records. The body is generated while it is sent, never held whole on
// either side; the service's peak RSS after each upload shows whether memory stays flat as uploads
// grow (the heap settles during the first ones; a 2N upload must not raise it further). Mix per 10 records: 1 product, 2 customers, 5 orders of 2 lines, 2 competitor prices.
//   BENCH_INGEST_RECORDS (N, default 60000)
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { createInterface } from 'node:readline';

const N = Number(process.env.BENCH_INGEST_RECORDS ?? 60_000);

function record(i: number, prefix: string): string {
  const unit = Math.floor(i / 10);
  const p = (k: number) => `${prefix}p${k}`;
  const c = (k: number) => `${prefix}c${k}`;
  switch (i % 10) {
    case 0: return JSON.stringify({ kind: 'product', external_id: p(unit), sku: `${prefix}SKU-${unit}`, name: `Product ${unit}`, category: `cat-${unit % 12}`, description: 'A product of the benchmark catalogue.' });
    case 1: case 2: {
      const k = unit * 2 + (i % 10) - 1;
      return JSON.stringify({ kind: 'customer', external_id: c(k), email: `${prefix}customer${k}@bench.example`, name: `Customer ${k}` });
    }
    case 8: case 9:
      return JSON.stringify({ kind: 'competitor_price', external_id: `${prefix}cp${i}`, product: p((unit * 7 + i) % (unit + 1)), competitor: `Rival ${i % 5}`, price_cents: 1000 + (i % 900), currency: 'EUR', observed_at: '2026-11-30T07:00:00Z' });
    default: {
      const customer = c((unit * 13 + i) % (unit * 2 + 2));
      return JSON.stringify({
        kind: 'order', external_id: `${prefix}o${i}`, number: `${prefix}B-${i}`, customer, status: 'delivered', currency: 'EUR', placed_at: '2026-11-20T10:00:00Z',
        lines: [{ line_no: 1, product: p(unit), quantity: 1 + (i % 3), unit_price_cents: 1999 }, { line_no: 2, product: p((unit * 3 + i) % (unit + 1)), quantity: 1, unit_price_cents: 499 }],
      });
    }
  }
}

function peakRssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmHWM:'))!;
  return Math.round(Number(/(\d+)/.exec(line)![1]) / 1024);
}

async function upload(url: string, token: string, count: number, prefix: string): Promise<{ seconds: number; report: Record<string, number> }> {
  const started = performance.now();
  const report = await new Promise<Record<string, number>>((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${token}` } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(text)) : reject(new Error(`${res.statusCode}: ${text}`))));
    });
    req.on('error', reject);
    void (async () => {
      for (let i = 0; i < count; i += 200) {
        let part = '';
        for (let j = i; j < Math.min(count, i + 200); j++) part += `${record(j, prefix)}\n`;
        if (!req.write(part)) await new Promise((r) => req.once('drain', r));
      }
      req.end();
    })();
  });
  return { seconds: (performance.now() - started) / 1000, report };
}

const child = spawn(process.execPath, ['--import', 'tsx', 'bench/ingest-server.ts'], { stdio: ['ignore', 'pipe', 'inherit'] });
const info = await new Promise<{ url: string; token: string; pid: number }>((resolve, reject) => {
  createInterface({ input: child.stdout! }).once('line', (l) => resolve(JSON.parse(l)));
  child.once('exit', (code) => reject(new Error(`ingest-server exited with ${code}`)));
});
try {
  const perMinute = (n: number, s: number) => Math.round((n / s) * 60);
  const warm = await upload(info.url, info.token, Math.round(N / 4), 'w');
  const rssWarm = peakRssMb(info.pid);
  const fresh = await upload(info.url, info.token, N, 'b');
  const rssFresh = peakRssMb(info.pid);
  const again = await upload(info.url, info.token, N, 'b');
  const rssAgain = peakRssMb(info.pid);
  const larger = await upload(info.url, info.token, 2 * N, 'l');
  const rssLarger = peakRssMb(info.pid);
  const check = (r: Record<string, number>, field: string) => `${r[field]}/${r.lines} ${field}${r.rejected ? `, ${r.rejected} rejected` : ''}`;
  console.log(JSON.stringify({
    records: N,
    warmup: { records: Math.round(N / 4), recordsPerMinute: perMinute(Math.round(N / 4), warm.seconds), outcome: check(warm.report, 'accepted'), servicePeakRssMb: rssWarm },
    inserts: { recordsPerMinute: perMinute(N, fresh.seconds), seconds: Math.round(fresh.seconds * 10) / 10, outcome: check(fresh.report, 'accepted'), servicePeakRssMb: rssFresh },
    reupload: { recordsPerMinute: perMinute(N, again.seconds), seconds: Math.round(again.seconds * 10) / 10, outcome: check(again.report, 'unchanged'), servicePeakRssMb: rssAgain },
    largerInserts: { records: 2 * N, recordsPerMinute: perMinute(2 * N, larger.seconds), seconds: Math.round(larger.seconds * 10) / 10, outcome: check(larger.report, 'accepted'), servicePeakRssMb: rssLarger },
    target: '≥ 50,000 records/min; peak RSS not growing with the upload size',
  }, null, 2));
} finally {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
}
