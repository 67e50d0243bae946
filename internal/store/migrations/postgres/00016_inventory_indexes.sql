-- Indexes for ListResourceInventory over large inventories (store.Tx.Resources; measured in
-- docs/performance.md, "Inventory filters"). A page is read in resource ID order and stops at
-- its last row, so each index ends in the order the page needs, after the columns a filter
-- fixes: without them a page of a selective filter read the whole inventory (seconds at
-- 1,000,000 resources). The two on inventory_resources cost a launch two more B-tree inserts.
--
-- PostgreSQL cannot read several ranges of an index merged in order (account_id = ANY (…)
-- over (account_id, …, resource_id) is read and sorted), so the platform index leaves the
-- account out, and the query walks a list of platforms or applications one value at a time
-- (UNION ALL). The query spells the resource ID of an ARN as the last index does
-- (store.Tx.arnResourceID).

-- +goose Up
-- An account's resources in a region in ID order: an unfiltered page of one account, and
-- account_id filters.
CREATE INDEX inventory_resources_scope ON inventory_resources (account_id, region, resource_id);
-- A platform's resources in a region, in ID order: platform EQUALS, and BEGINS_WITH, which
-- the query turns into the list of platforms that pass.
CREATE INDEX inventory_resources_platform ON inventory_resources (platform, region, resource_id);
-- An application's installations in resource ID order (every ARN ends in "/" and the ID):
-- application_name EQUALS and BEGINS_WITH walk it and join each resource.
CREATE INDEX inventory_applications_name_resource ON inventory_applications (name, substr(resource_arn, strpos(resource_arn, '/') + 1));

-- +goose Down
DROP INDEX inventory_applications_name_resource;
DROP INDEX inventory_resources_platform;
DROP INDEX inventory_resources_scope;
