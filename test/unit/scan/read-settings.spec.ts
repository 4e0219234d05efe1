import { expect } from 'chai';
import type { SourceConfig } from '../../../config/load.js';
import { READER_VERSION, readSettingsFingerprint } from '../../../core/scan/object-reader.js';

describe('readSettingsFingerprint', () => {
  const source = { id: 'edge-a', plateTag: 'ImageDescription.plate' } as SourceConfig;
  const base = { source, timezone: 'Europe/Amsterdam', maxHeadBytes: 1 << 20, plateHashKey: 'k'.repeat(32) };

  it('is the same for the same settings, whatever else the source says', () => {
    const other = { ...source, id: 'edge-b', concurrency: 2 } as SourceConfig;
    expect(readSettingsFingerprint({ ...base })).to.equal(
      readSettingsFingerprint({ ...base, source: other }),
    );
    expect(readSettingsFingerprint(base)).to.match(/^[0-9a-f]{32}$/);
  });

  it('changes with each setting that shapes a read', () => {
    const variants = [
      base,
      { ...base, timezone: 'Europe/London' },
      { ...base, maxHeadBytes: 1 << 19 },
      { ...base, plateHashKey: 'r'.repeat(32) },
      { ...base, plateHashKey: undefined },
      { ...base, source: { ...source, plateTag: 'UserComment' } as SourceConfig },
      { ...base, source: { ...source, violationSignal: { metadata: 'violation' } } as SourceConfig },
      {
        ...base,
        source: { ...source, violationSignal: { exif: 'ImageDescription.violation' } } as SourceConfig,
      },
    ];
    expect(new Set(variants.map((v) => readSettingsFingerprint(v))).size).to.equal(variants.length);
  });

  it("changes with the reader's version, so states an older reader made are read again", () => {
    expect(readSettingsFingerprint(base, READER_VERSION - 1)).to.not.equal(readSettingsFingerprint(base));
    expect(readSettingsFingerprint(base, READER_VERSION)).to.equal(readSettingsFingerprint(base));
  });
});
