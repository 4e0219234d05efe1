import { expect } from 'chai';
import { planFolderShards } from '../../../core/scan/folder-shards.js';
import { byteOrder } from '../../../core/scan/key-order.js';
import type { KeyRange } from '../../../core/queue/jobs.js';
import { seededRandom, type Random } from '../../../fixtures/random.js';

/**
 * The folders S3 answers ListObjectsV2 with delimiter '/' over `keys`: the common prefixes among
 * the first `pageSize` entries (objects and prefixes, in byte order) directly under `prefix`.
 * `drop` leaves folders out, as a faulty server might. Records the prefixes listed.
 */
function bucketOf(
  keys: string[],
  options: { pageSize?: number; drop?: (folder: string) => boolean; shuffle?: Random } = {},
) {
  const listed: string[] = [];
  const list = async (prefix: string): Promise<string[]> => {
    listed.push(prefix);
    const entries = new Set<string>();
    for (const key of keys) {
      if (!key.startsWith(prefix)) continue;
      const slash = key.indexOf('/', prefix.length);
      entries.add(slash === -1 ? key : key.slice(0, slash + 1) + '\0folder');
    }
    return [...entries]
      .sort(byteOrder)
      .slice(0, options.pageSize ?? 1000)
      .filter((entry) => entry.endsWith('\0folder'))
      .map((entry) => entry.slice(0, -'\0folder'.length))
      .filter((folder) => !options.drop?.(folder))
      .sort(() => (options.shuffle ? options.shuffle() - 0.5 : 0));
  };
  return { list, listed };
}

/** KeyRange's contract: keys > startAfter and <= endAt, in byte order. */
function holds(range: KeyRange, key: string): boolean {
  return (
    (range.startAfter === null || byteOrder(key, range.startAfter) > 0) &&
    (range.endAt === null || byteOrder(key, range.endAt) <= 0)
  );
}

function expectPartition(shards: KeyRange[], keys: string[]): void {
  for (const key of keys) {
    expect(
      shards.filter((shard) => holds(shard, key)),
      `shards holding ${key}`,
    ).to.have.length(1);
  }
}

/** Ranges that begin at each of `folders`, the first open at its start. */
function rangesAt(folders: string[]): KeyRange[] {
  return folders.map((_, i) => ({ startAfter: i === 0 ? null : folders[i]!, endAt: folders[i + 1] ?? null }));
}

const cameraKeys = (cameras: number, days: number, perDay: number): string[] =>
  Array.from({ length: cameras * days * perDay }, (_, i) => {
    const camera = `cam-${String(i % cameras).padStart(2, '0')}`;
    const day = `2026-11-${String(20 + (Math.floor(i / cameras) % days)).padStart(2, '0')}`;
    return `${camera}/${day}/${String(i).padStart(6, '0')}.jpg`;
  });

describe('folder shards of a first scan', () => {
  it('cuts at the camera folders and stops before a level with more folders than shards', async () => {
    const keys = cameraKeys(8, 3, 5);
    const bucket = bucketOf(keys);
    const shards = (await planFolderShards(bucket.list, 16))!;
    expect(shards).to.deep.equal(rangesAt(Array.from({ length: 8 }, (_, i) => `cam-0${i}/`)));
    expectPartition(shards, keys);
    // The root, then camera folders until the next level (3 dates each) passes 16 folders.
    expect(bucket.listed).to.deep.equal([
      '',
      'cam-00/',
      'cam-01/',
      'cam-02/',
      'cam-03/',
      'cam-04/',
      'cam-05/',
    ]);
  });

  it('goes down through single folders to the level that has several, and as deep as still fits', async () => {
    const days = Array.from(
      { length: 70 },
      (_, i) => `2026/11/${String(i % 7).padStart(2, '0')}/cam-${String(i).padStart(5, '0')}.jpg`,
    );
    const byDay = (await planFolderShards(bucketOf(days).list, 16))!;
    expect(byDay).to.deep.equal(rangesAt(Array.from({ length: 7 }, (_, i) => `2026/11/0${i}/`)));
    expectPartition(byDay, days);
    const cameras = cameraKeys(2, 3, 4);
    const byCameraDay = (await planFolderShards(bucketOf(cameras).list, 16))!;
    expect(byCameraDay.map((r) => r.startAfter)).to.deep.equal([
      null,
      'cam-00/2026-11-21/',
      'cam-00/2026-11-22/',
      'cam-01/2026-11-20/',
      'cam-01/2026-11-21/',
      'cam-01/2026-11-22/',
    ]);
    expectPartition(byCameraDay, cameras);
  });

  it('groups the folders evenly when the first level with several has more than shards', async () => {
    const keys = cameraKeys(40, 1, 2);
    const shards = (await planFolderShards(bucketOf(keys).list, 16))!;
    expect(shards).to.have.length(16);
    expect(shards[1]!.startAfter).to.equal('cam-02/');
    expectPartition(shards, keys);
  });

  it('gives no shards for a flat bucket, a single folder of objects, or one shard allowed', async () => {
    expect(await planFolderShards(bucketOf(['a.jpg', 'b.jpg']).list, 16)).to.equal(null);
    expect(await planFolderShards(bucketOf(['x/a.jpg', 'x/b.jpg']).list, 16)).to.equal(null);
    expect(await planFolderShards(bucketOf(cameraKeys(8, 1, 1)).list, 1)).to.equal(null);
  });

  it('holds every key in exactly one shard, even when listings are cut off, out of order or leave folders out', async () => {
    const random: Random = seededRandom(11);
    // U+FF61 sorts after U+1F697 in UTF-16 code units but before it in UTF-8 bytes (S3's order).
    const parts = ['a', 'b', 'é', 'a-b', 'a.b', '2026', 'x', '\u{1F697}', '\uFF61'];
    let split = 0;
    for (let round = 0; round < 300; round++) {
      const keys = new Set<string>();
      const count = 1 + Math.floor(random() * 40);
      for (let i = 0; i < count; i++) {
        const depth = Math.floor(random() * 5);
        const path = Array.from({ length: depth }, () => parts[Math.floor(random() * parts.length)]! + '/');
        keys.add(path.join('') + (random() < 0.1 && depth > 0 ? '' : `${i}.jpg`));
      }
      const all = [...keys];
      const seen = new Map<string, boolean>();
      const bucket = bucketOf(all, {
        pageSize: 2 + Math.floor(random() * 8),
        drop:
          round % 2 === 0
            ? undefined
            : (folder) => seen.get(folder) ?? seen.set(folder, random() < 0.3).get(folder)!,
        shuffle: round % 3 === 0 ? random : undefined,
      });
      const maxShards = 2 + Math.floor(random() * 6);
      const shards = await planFolderShards(bucket.list, maxShards);
      if (shards) {
        split++;
        expect(shards.length).to.be.within(2, maxShards);
      }
      expectPartition(shards ?? [{ startAfter: null, endAt: null }], all);
    }
    expect(split).to.be.greaterThan(150);
  });
});
