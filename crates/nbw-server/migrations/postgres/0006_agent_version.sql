-- The nbw version an agent announces at start (`PUT /v1/agent/self`), shown by `nbw admin
-- agent list`; NULL until its first start.
ALTER TABLE agents ADD COLUMN version TEXT;
