-- What an object's stored state was read with: a fingerprint of the settings that shape a read
-- (time zone, plate tag and hash key, violation signals, maxHeadBytes). A state read with other
-- settings is read again, so a corrected time zone or a rotated plate hash key reaches every object,
-- not only the ones that change. Rows from before have none, and are read again once.
ALTER TABLE objects ADD COLUMN read_settings text NOT NULL DEFAULT '';
