-- Until when an officer accepted a finding's risk. A scan that sees the finding after that time
-- reopens it (with a history entry), so an acceptance lapses instead of standing for good. Findings
-- accepted before this column existed take the `until` of their latest acceptance.
ALTER TABLE findings ADD COLUMN accepted_until timestamptz;
UPDATE findings f SET accepted_until = (
  SELECT h.until FROM finding_history h
  WHERE h.finding_id = f.id AND h.to_status = 'accepted-risk'
  ORDER BY h.at DESC, h.id DESC
  LIMIT 1
)
WHERE f.status = 'accepted-risk';
