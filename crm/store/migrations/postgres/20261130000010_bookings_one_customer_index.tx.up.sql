-- One index per customer's bookings instead of two. A new booking wrote
-- an entry into both bookings_customer_idx (org, customer id, day, id) and
-- bookings_number_idx (org, customer number, status, registered day), each
-- at its customer's place in the index: two random leaf pages per booking
-- (a fifth of the pages a batch of 100 bookings wrote on SQLite). Both
-- lead with the customer, so the first one now carries what the second
-- gave the filters (status, registered day and customer number): the
-- "number of bookings" and "last booking" filters group by customer id on
-- it and read the number from it, the export's counts look the customers'
-- numbers up there, and the customer's list, counts and the foreign key to
-- customers read it as before.
DROP INDEX bookings_number_idx;
DROP INDEX bookings_customer_idx;
CREATE INDEX bookings_customer_idx ON bookings (org_id, customer_id, list_day, id, status, registered_on, customer_number);
