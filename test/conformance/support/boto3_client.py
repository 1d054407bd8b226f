"""
boto3 as a real client of an S3 endpoint, for the conformance suite (test/conformance).

Usage: python3 boto3_client.py '<json request>'
  {"endpoint": "http://127.0.0.1:PORT", "action": "<name>", "args": {...}}

Prints one JSON document: {"ok": <result>} or {"error": {"code", "status", "message"}}.
Actions:
  call          {"method": "put_object", "params": {...}}: any S3 client method. A Body given as
                {"file": path} or {"text": str} or {"base64": str}; a streamed Body in the
                response is read and summarized as {"sha256", "length", "text"} (text if small).
  sfn           {"method": "list_state_machines", "params": {...}}: any Step Functions method.
  paginate      {"method": "list_objects_v2", "params": {...}}: every page, as a list.
  upload_file   {"file", "bucket", "key", "extra": {...}}: s3transfer (multipart above 8 MB).
  download_file {"bucket", "key", "file"}: s3transfer (ranged GETs above 8 MB).
  copy          {"source": {"Bucket", "Key"}, "bucket", "key"}: s3transfer managed copy.
"""

import base64
import datetime
import hashlib
import json
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError


def jsonable(value):
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if hasattr(value, "read"):
        data = value.read()
        out = {"sha256": hashlib.sha256(data).hexdigest(), "length": len(data)}
        if len(data) <= 4096:
            out["text"] = data.decode("utf-8", "replace")
        return out
    return value


def body_of(spec):
    if isinstance(spec, dict):
        if "file" in spec:
            return open(spec["file"], "rb")
        if "text" in spec:
            return spec["text"].encode()
        if "base64" in spec:
            return base64.b64decode(spec["base64"])
    return spec


def main():
    request = json.loads(sys.argv[1])
    service = "stepfunctions" if request["action"] == "sfn" else "s3"
    client = boto3.client(
        service,
        endpoint_url=request["endpoint"],
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=Config(
            s3={"addressing_style": "path"},
            retries={"max_attempts": 1, "mode": "standard"},
            parameter_validation=False,
        ),
    )
    action = request["action"]
    args = request.get("args", {})
    try:
        if action in ("call", "sfn"):
            params = dict(args.get("params", {}))
            if "Body" in params:
                params["Body"] = body_of(params["Body"])
            if "Delete" in params and isinstance(params["Delete"], dict):
                pass
            result = getattr(client, args["method"])(**params)
            out = jsonable(result)
            out["_status"] = result["ResponseMetadata"]["HTTPStatusCode"]
            out["_headers"] = result["ResponseMetadata"].get("HTTPHeaders", {})
        elif action == "paginate":
            pages = client.get_paginator(args["method"]).paginate(**args.get("params", {}))
            out = [jsonable(page) for page in pages]
        elif action == "upload_file":
            client.upload_file(args["file"], args["bucket"], args["key"], ExtraArgs=args.get("extra"))
            out = True
        elif action == "download_file":
            client.download_file(args["bucket"], args["key"], args["file"])
            out = True
        elif action == "copy":
            client.copy(args["source"], args["bucket"], args["key"])
            out = True
        else:
            raise SystemExit(f"unknown action {action}")
        print(json.dumps({"ok": out}))
    except ClientError as error:
        meta = error.response.get("ResponseMetadata", {})
        print(
            json.dumps(
                {
                    "error": {
                        "code": error.response.get("Error", {}).get("Code"),
                        "status": meta.get("HTTPStatusCode"),
                        "message": error.response.get("Error", {}).get("Message"),
                        "requestId": meta.get("RequestId"),
                    }
                }
            )
        )


if __name__ == "__main__":
    main()
