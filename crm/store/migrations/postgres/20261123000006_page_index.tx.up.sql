-- The columns list filters test most, carried in the index that orders
-- customers by number: finding a page's numbers then reads this index
-- alone (an index-only scan), and only the page's rows are read whole.
CREATE INDEX customers_page_idx ON customers (org_id, number)
    INCLUDE (language, first_contact, status, origin, assigned_to, birth_date, created_at);
