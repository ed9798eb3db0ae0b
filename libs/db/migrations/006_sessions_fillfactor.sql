-- Room in each sessions page for the row's next versions. A session's events span a few
-- batches, so its row is updated soon after its insert (the end, compacts, a late start);
-- with full pages each update had to go to another page, so it was not HOT and wrote a new
-- entry in every index of the table. Applies to the pages written from now on; existing
-- rows stay where they are.
ALTER TABLE sessions SET (fillfactor = 80);
