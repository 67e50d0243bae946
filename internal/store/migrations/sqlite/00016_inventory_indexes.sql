-- Indexes for ListResourceInventory over large inventories (store.Tx.Resources; measured in
-- docs/performance.md, "Inventory filters"). A page is read in resource ID order and stops at
-- its last row, so each index ends in the order the page needs, after the columns a filter
-- fixes: without them a page of a selective filter read the whole inventory (seconds at
-- 1,000,000 resources). The two on inventory_resources cost a launch two more B-tree inserts.
-- SQLite reads an IN list on an index column before the order's one range by range, in
-- order, stopping each at the page's end: account_id IN (…) of an organization, and the lists
-- of platforms or applications the query makes, use them too.
--
-- A later migration that rebuilds inventory_resources or inventory_applications (SQLite's
-- way of changing a constraint) must create these again.

-- +goose Up
-- The resources of an account (or, one range per account, of several) in a region, in ID
-- order: an unfiltered page, account_id, resource_id and NOT_EQUALS filters.
CREATE INDEX inventory_resources_scope ON inventory_resources (account_id, region, resource_id);
-- A platform's resources, per account and region, in ID order: platform EQUALS, and
-- BEGINS_WITH, which the query turns into the list of platforms that pass.
CREATE INDEX inventory_resources_platform ON inventory_resources (platform, account_id, region, resource_id);
-- An application's installations in resource ID order (every ARN ends in "/" and the ID):
-- application_name EQUALS and BEGINS_WITH walk it and join each resource.
CREATE INDEX inventory_applications_name_resource ON inventory_applications (name, substr(resource_arn, instr(resource_arn, '/') + 1));

-- +goose Down
DROP INDEX inventory_applications_name_resource;
DROP INDEX inventory_resources_platform;
DROP INDEX inventory_resources_scope;
