import { expect } from 'chai';
import { FINDING_STATUSES } from '../../../core/model.js';
import { allowedFrom, canMove, TRANSITIONS } from '../../../server/workflow.js';

describe('finding workflow', () => {
  it('goes open -> acknowledged -> a decision, and reopens from any decision', () => {
    expect(canMove('open', 'acknowledged')).to.equal(true);
    expect(canMove('open', 'resolved')).to.equal(false);
    for (const decision of ['resolved', 'false-positive', 'accepted-risk'] as const) {
      expect(canMove('acknowledged', decision)).to.equal(true);
      expect(canMove(decision, 'open')).to.equal(true);
      expect(canMove(decision, 'acknowledged')).to.equal(false);
    }
    expect(canMove('remediated', 'open')).to.equal(true);
    expect(canMove('remediated', 'resolved')).to.equal(false);
  });

  it('never lets an officer set remediated, and knows where each status may come from', () => {
    for (const status of FINDING_STATUSES) expect(TRANSITIONS[status]).to.not.include('remediated');
    expect(allowedFrom('open')).to.have.members([
      'acknowledged',
      'resolved',
      'false-positive',
      'accepted-risk',
      'remediated',
    ]);
    expect(allowedFrom('resolved')).to.deep.equal(['acknowledged']);
  });
});
