/**
 * Tells from a bucket name whether it looks like a non-production environment. The seeds' leak was a
 * test environment the municipality never knew about, so a name is a cheap first signal; it is a
 * signal, not a verdict (the `test-environment` rule also needs images in the bucket).
 */

/**
 * Words that mark a non-production copy. Matched as whole words only: `acc` matches `ars-acc-2019`
 * but not `accident`; `dev` matches `dev` but not `development`, which is deliberately left out too
 * because it also appears in names like `urban-development-cams`.
 */
export const TEST_WORDS: readonly string[] = [
  'test',
  'tst',
  'acc',
  'acceptatie',
  'staging',
  'stg',
  'dev',
  'demo',
  'sandbox',
  'tmp',
  'temp',
  'backup',
  'bak',
  'old',
  'copy',
  'export',
];

const TEST_WORD_SET = new Set(TEST_WORDS);

/** The result of {@link classifyBucketName}. */
export interface BucketNameClass {
  testLike: boolean;
  /** The words of the name found in {@link TEST_WORDS}, in order of appearance, without repeats. */
  words: string[];
}

/**
 * Splits a bucket name into words on `-`, `_`, `.` and on every boundary between letters and
 * digits, so `test2`, `backup.2020` and `vendor_test` yield `test` and `backup`, while `contest`,
 * `latest` or `oldenzaal` stay one word and do not match.
 */
export function bucketNameWords(name: string): string[] {
  return name.toLowerCase().match(/[a-z]+|[0-9]+|[^a-z0-9._-]+/g) ?? [];
}

/** Classifies a bucket name as test-like when one of its words is in {@link TEST_WORDS}. */
export function classifyBucketName(name: string): BucketNameClass {
  const words: string[] = [];
  for (const word of bucketNameWords(name)) {
    if (TEST_WORD_SET.has(word) && !words.includes(word)) words.push(word);
  }
  return { testLike: words.length > 0, words };
}
