"""Creates the table TABLE_NAME exactly as template.yaml's ChatTable defines it (keys, indexes,
billing), on the DynamoDB endpoint in AWS_ENDPOINT_URL_DYNAMODB: the benches' functions then
query the same indexes they query in AWS."""

import os

import boto3
import yaml


class Template(yaml.SafeLoader):
    pass


# CloudFormation's short-form functions (!Ref, !Sub, ...) do not matter for the table.
Template.add_multi_constructor("!", lambda loader, suffix, node: None)


def main() -> None:
    with open("template.yaml") as f:
        table = yaml.load(f, Template)["Resources"]["ChatTable"]["Properties"]
    keep = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode")
    boto3.client("dynamodb").create_table(
        TableName=os.environ["TABLE_NAME"], **{k: table[k] for k in keep if k in table})


if __name__ == "__main__":
    main()
