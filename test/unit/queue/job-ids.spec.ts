import { expect } from 'chai';
import { jobIds } from '../../../core/queue/jobs.js';

describe('jobIds', () => {
  it('gives distinct bucket jobs distinct ids, whatever dashes sources and buckets hold', () => {
    const ids = [
      jobIds.bucket('scan', 'vendor', 'ars-x', 0),
      jobIds.bucket('scan', 'vendor-ars', 'x', 0),
      jobIds.bucket('scan', 'vendor-ars', 'x-0', 0),
      jobIds.bucket('scan', 'vendor-ars', 'x', 1),
      jobIds.bucket('scan', 'vendor-ars', 'x.y', 0),
      jobIds.bucket('scan', 'vendor-ars-x', 'y', 0),
      jobIds.source('scan', 'vendor-ars'),
      jobIds.finalize('scan'),
    ];
    expect(new Set(ids).size).to.equal(ids.length);
  });

  it('gives the same job the same id, so a re-added job is a no-op', () => {
    expect(jobIds.bucket('scan', 'edge-a', 'camera', 3)).to.equal(
      jobIds.bucket('scan', 'edge-a', 'camera', 3),
    );
    expect(jobIds.bucket('scan', 'edge-a', 'camera', 3)).not.to.include(':');
  });
});
