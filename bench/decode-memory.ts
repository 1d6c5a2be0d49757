/**
 * Peak memory (max RSS) of one image-folder batch, per pixel-budget setting, each in a fresh
 * child process so the peaks do not mix. The batches: the seed's (32 images, 150 × 150), one of
 * 32 with four 7000 × 7000 photos in it, one with four PNGs declaring 16000 × 16000 (a few MB on
 * disk each, 768 MB decoded), and batches of 32 images just under each setting's limit.
 *
 *   node --conditions=@rxfit/source --import tsx bench/decode-memory.ts
 *
 * Env: ONLY_BIG=1 leaves out the seed batch.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const SELF = fileURLToPath(import.meta.url);

async function png(width: number, height: number, seed: number): Promise<Buffer> {
  // Noise on a small tile, stretched: realistic decode work, small files.
  const tile = Buffer.alloc(64 * 64 * 3);
  for (let i = 0; i < tile.length; i++) tile[i] = (i * 7919 + seed * 104729) % 251;
  return sharp(tile, { raw: { width: 64, height: 64, channels: 3 } }).resize(width, height, { kernel: 'nearest' }).png().toBuffer();
}

async function makeFolder(root: string, large: { side: number; count: number }): Promise<void> {
  mkdirSync(join(root, 'a'), { recursive: true });
  mkdirSync(join(root, 'b'), { recursive: true });
  for (let i = 0; i < 32 - large.count; i++) writeFileSync(join(root, i % 2 ? 'a' : 'b', `small-${i}.png`), await png(150, 150, i));
  if (large.count > 0) {
    const big = await png(large.side, large.side, 99);
    for (let i = 0; i < large.count; i++) writeFileSync(join(root, i % 2 ? 'a' : 'b', `large-${i}.png`), big);
  }
}

/** In the child: load one batch of 32 with the given options, print max RSS in MB. */
async function child(root: string, options: string): Promise<void> {
  const { imageFolder } = await import('@rxfit/image-folder');
  const data = await imageFolder(root, {
    targetSize: [150, 150], batchSize: 32, workers: 0, concurrency: 4, shuffle: false,
    onInvalidImage: 'skip', onWarning: () => undefined, ...(JSON.parse(options) as object),
  });
  for await (const batch of data.batches(0)) {
    batch.xs.dispose();
    batch.ys.dispose();
  }
  process.stdout.write(String(Math.round(process.resourceUsage().maxRSS / 1024)));
}

async function main(): Promise<void> {
  const settings: [string, object][] = [
    ['defaults (limitInputPixels 25M, maxBatchPixels 25M)', {}],
    ['limitInputPixels 50M, maxBatchPixels 50M', { limitInputPixels: 50_000_000, maxBatchPixels: 50_000_000 }],
    ['no batch budget (maxBatchPixels: false)', { maxBatchPixels: false }],
    ['before: sharp limit 268402689, no budget', { limitInputPixels: 268402689, maxBatchPixels: false }],
  ];
  const batches: [string, { side: number; count: number }][] = [
    ['seed batch: 32 x 150x150', { side: 0, count: 0 }],
    ['28 x 150x150 + 4 x 7000x7000', { side: 7000, count: 4 }],
    ['28 x 150x150 + 4 x 16000x16000', { side: 16000, count: 4 }],
    ['32 x 4900x4900 (24M pixels each)', { side: 4900, count: 32 }],
    ['32 x 7000x7000 (49M pixels each)', { side: 7000, count: 32 }],
  ];
  console.log('batch | setting | max RSS (MB)');
  for (const [name, large] of batches) {
    if (process.env['ONLY_BIG'] && large.count === 0) continue;
    const root = mkdtempSync(join(tmpdir(), 'rxfit-decode-memory-'));
    try {
      await makeFolder(root, large);
      for (const [label, options] of settings) {
        const rss = execFileSync(process.execPath, [...process.execArgv, SELF, 'child', root, JSON.stringify(options)], { encoding: 'utf8' });
        console.log(`${name} | ${label} | ${rss}`);
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }
}

if (process.argv[2] === 'child') await child(process.argv[3]!, process.argv[4]!);
else await main();
