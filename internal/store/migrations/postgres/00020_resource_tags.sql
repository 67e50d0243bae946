-- Tags of EC2 resources (instances, Dedicated Hosts, images): written by the EC2 subset's
-- TagSpecification (at launch, allocation and registration, in the resource's transaction) and
-- CreateTags, removed by DeleteTags; read by the Describe actions, DescribeTags and
-- ListResourceInventory's tag:<key> filter. Keys and values are case-sensitive, as EC2's.

-- +goose Up
CREATE TABLE resource_tags (
	resource_arn TEXT NOT NULL REFERENCES inventory_resources (arn) ON DELETE CASCADE,
	key          TEXT NOT NULL,
	value        TEXT NOT NULL,
	PRIMARY KEY (resource_arn, key)
);
-- The resources with a tag (key = value, or the key with any value), for tag filters: an
-- EXISTS per inventory row seeks (key, value, resource_arn) and reads nothing else.
CREATE INDEX resource_tags_key_value ON resource_tags (key, value, resource_arn);

-- +goose Down
DROP TABLE resource_tags;
