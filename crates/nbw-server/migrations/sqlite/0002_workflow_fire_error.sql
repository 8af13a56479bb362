-- The last scheduled fire of a workflow that could not create a run (a JSON FireError: its
-- time, code and message), kept until a later fire creates one, so users see why it is silent.
ALTER TABLE workflows ADD COLUMN fire_error TEXT;
