"""A real S3 server on loopback for the tests and for trying S3 inputs by hand: moto's server
(PyPI `moto[server]`, with boto3), which checks SigV4 signatures once an IAM user exists.

    moto_server -H 127.0.0.1 -p 9000 &                       # INITIAL_NO_AUTH_ACTION_COUNT=3
    python3 scripts/s3-local.py setup http://127.0.0.1:9000    # prints KEY SECRET
    export AWS_ENDPOINT_URL=http://127.0.0.1:9000 AWS_ACCESS_KEY_ID=KEY AWS_SECRET_ACCESS_KEY=SECRET
    python3 scripts/s3-local.py put photos 2024/a.jpg=photo.jpg
    python3 scripts/s3-local.py fill photos d/ 2100 photo.jpg
    python3 scripts/s3-local.py get reports run.json run.json     # prints its Content-Type
    python3 scripts/s3-local.py dump thumbs site/ landed/         # every object, with its type
    python3 scripts/s3-local.py delete thumbs site/a_200.jpg
    thumbnail-maker s3://photos/

`setup` makes the three requests moto lets through unauthenticated when started with
INITIAL_NO_AUTH_ACTION_COUNT=3 (an IAM user, its access key, a policy allowing everything but
s3:GetObject on keys under `denied/` and s3:PutObject in the bucket `locked`); every later
request is checked. Stop the server by the
pid you started it with.
"""
import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import boto3


def client(service, endpoint=None, key=None, secret=None):
    return boto3.client(
        service,
        endpoint_url=endpoint or os.environ["AWS_ENDPOINT_URL"],
        region_name=os.environ.get("AWS_REGION", "us-east-1"),
        aws_access_key_id=key or os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
        aws_secret_access_key=secret or os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"),
    )


def setup(endpoint):
    iam = client("iam", endpoint, "setup", "setup")
    iam.create_user(UserName="thumbs")
    key = iam.create_access_key(UserName="thumbs")["AccessKey"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::*/denied/*"},
            {"Effect": "Deny", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::locked/*"},
        ],
    }
    iam.put_user_policy(UserName="thumbs", PolicyName="thumbs", PolicyDocument=json.dumps(policy))
    print(key["AccessKeyId"], key["SecretAccessKey"])


def bucket(s3, name):
    try:
        s3.create_bucket(Bucket=name)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass


def put(name, pairs):
    s3 = client("s3")
    bucket(s3, name)
    for pair in pairs:
        key, _, path = pair.partition("=")
        body = open(path, "rb").read() if path else b""
        s3.put_object(Bucket=name, Key=key, Body=body, ContentType="image/jpeg")


def fill(name, prefix, count, path):
    s3 = client("s3")
    bucket(s3, name)
    body = open(path, "rb").read()
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda i: s3.put_object(Bucket=name, Key=f"{prefix}p{i:05d}.jpg", Body=body), range(count)))


def get(name, key, path):
    """Writes the object's body to PATH and prints its Content-Type."""
    answer = client("s3").get_object(Bucket=name, Key=key)
    open(path, "wb").write(answer["Body"].read())
    print(answer["ContentType"])


def dump(name, prefix, folder):
    """Writes every object under PREFIX to FOLDER/<key without the prefix> and prints a line
    per object: its key without the prefix, its size and its Content-Type."""
    s3 = client("s3")
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=name, Prefix=prefix)
    for page in pages:
        for entry in page.get("Contents", []):
            rest = entry["Key"][len(prefix):]
            answer = s3.get_object(Bucket=name, Key=entry["Key"])
            path = os.path.join(folder, rest)
            os.makedirs(os.path.dirname(path) or folder, exist_ok=True)
            open(path, "wb").write(answer["Body"].read())
            print(f"{rest}\t{entry['Size']}\t{answer['ContentType']}")


def delete(name, keys):
    s3 = client("s3")
    for key in keys:
        s3.delete_object(Bucket=name, Key=key)


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    if command == "setup":
        setup(args[0])
    elif command == "put":
        put(args[0], args[1:])
    elif command == "fill":
        fill(args[0], args[1], int(args[2]), args[3])
    elif command == "get":
        get(args[0], args[1], args[2])
    elif command == "dump":
        dump(args[0], args[1], args[2])
    elif command == "delete":
        delete(args[0], args[1:])
    else:
        sys.exit(f"unknown command {command}: setup, put, fill, get, dump or delete")
