#!/usr/bin/python3
"""Differential test: cm_sigv4 (through sigv4_sign_tool) against botocore.

Generates randomised requests with a fixed seed, signs each with Debian's
botocore (botocore.auth.SigV4Auth, S3SigV4Auth, SigV4QueryAuth,
S3SigV4QueryAuth) at a fixed timestamp and with our C signer, and requires
identical signatures. Prints "N passed, N failed"; on a mismatch it prints
both canonical requests.

Comparing like with like -- botocore's quirks and how the generator handles
them:
* botocore takes the canonical query from `request.params` (encodes each key
  and value with quote(safe='-_.~') and sorts) or, without params, from the
  URL's query *as is* (split on '&', sorted, not decoded or re-encoded). Our
  signer decodes and re-encodes the wire query. So random raw key/value pairs
  go to botocore as `params` and to the C tool as an AWS-encoded wire query in
  shuffled order; "url" cases give both the same already-canonically-encoded
  query string in the URL.
* SigV4QueryAuth reparses the URL query with parse_qs, which turns '+' into a
  space and keeps only the first of repeated keys, and it moves a request body
  into the query. Presign cases therefore use unique keys, no '+', no body.
* botocore signs every header present at signing time except User-Agent,
  Expect and X-Amzn-Trace-Id (as we do), and computes Host from the URL
  (lower-case, port only when not the default). A Date header makes botocore
  sign Date instead of adding X-Amz-Date, so no case carries Date.
* Header values are trimmed with str.split(), which also splits on non-ASCII
  Unicode whitespace; ours trims ASCII whitespace only, so values use spaces
  and tabs (no line breaks: urlsplit/email would treat them specially).
* Non-S3 paths: botocore runs remove_dot_segments over the raw path and then
  quote(safe='/~'), i.e. the wire path is encoded again ('%' -> '%25'). S3
  (S3SigV4Auth) uses the path exactly as given. Paths mix unreserved,
  sub-delims, '@', ':', percent escapes, raw UTF-8, '.', '..' and '//'; never
  '?', '#', tab or newline, which urlsplit would interpret.
* S3SigV4Auth always adds X-Amz-Content-SHA256; S3SigV4QueryAuth signs
  UNSIGNED-PAYLOAD. Over http:// botocore always hashes the body.

The other direction (what stackd needs): every request botocore signed is
then checked by cm_sigv4_verify as a server would receive it -- botocore's
headers (Authorization, X-Amz-Date, token, ...), the wire path, and the wire
query (the presigned URL's query for presigned cases; for header cases the
AWS-encoded query a client sends, since AWSRequest.params would go through
urlencode's '+' for spaces, which botocore's own serializers never use).
"""
import binascii
import datetime
import json
import random
import subprocess
import sys
import types

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.utils import percent_encode

SEED = 20261122
N_CASES = 400
FIXED = datetime.datetime(2026, 11, 22, 7, 30, 5)
FIXED_EPOCH = 1795332605  # FIXED as Unix seconds (UTC)


class _FixedDateTime(datetime.datetime):
    @classmethod
    def utcnow(cls):
        return FIXED


# botocore reads datetime.datetime.utcnow() inside add_auth; pin it.
botocore.auth.datetime = types.SimpleNamespace(datetime=_FixedDateTime)

SERVICES = ["sqs", "dynamodb", "execute-api", "logs", "monitoring", "lambda", "s3"]
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "us-gov-west-1", "cn-north-1"]
HOSTS = ["127.0.0.1", "localhost", "sqs.us-east-1.amazonaws.com", "abc123.execute-api.eu-west-1.amazonaws.com"]
PATH_PIECES = ["a", "Zz", "0-9", "_.~", "@connections", "R1kmxc2VNjMCFIA%3D", "%20", "%2F",
               "%25", "%E1%88%B4", "!$&'()*+,;=", ":", "é", "ሴ", "😀", ".", "..", "", "a b",
               "x%zz", "2015-03-31", "functions", "f:1", "[x]", "~u"]
QUERY_CHARS = "abcXYZ019-_.~ /+=&%!*'();:@$,?#[]éሴ\u00a0"
HEADER_NAMES = ["X-Amz-Target", "Content-Type", "x-amz-meta-Foo", "My-Header", "MY-HEADER",
                "X-Amz-Invocation-Type", "x-custom", "User-Agent", "X-Amzn-Trace-Id", "Expect",
                "Accept", "amz-sdk-request", "X-Amz-Log-Type"]


def rand_text(rng, alphabet, lo, hi):
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(lo, hi)))


def rand_path(rng, s3):
    if s3:
        # S3 keys arrive already encoded by the serializer (quote safe='/~').
        segs = [rand_text(rng, "abcXYZ09-_.~ /é+=&", 0, 8) for _ in range(rng.randint(1, 4))]
        return "/" + percent_encode("/".join(segs), safe="/~")
    segs = [rng.choice(PATH_PIECES) + (rng.choice(PATH_PIECES) if rng.random() < 0.3 else "")
            for _ in range(rng.randint(0, 6))]
    path = "/" + "/".join(segs)
    if rng.random() < 0.2:
        path += "/"
    return path


def rand_header_value(rng):
    core = rand_text(rng, "abcXYZ019-_.:;/=,\"' ", 0, 12)
    pad = lambda: rng.choice(["", " ", "  ", "\t", " \t "])
    inner = rng.choice(["", " ", "   ", "\t", " \t  "])
    return pad() + core + (inner + rand_text(rng, "xyz.1", 1, 4) if rng.random() < 0.5 else "") + pad()


def make_case(rng, i):
    service = rng.choice(SERVICES)
    s3 = service == "s3"
    mode = "query" if rng.random() < 0.25 else "header"
    host = rng.choice(HOSTS)
    port = rng.choice([None, 80, 443, 4566, 8080])
    scheme = rng.choice(["http", "https"])
    netloc = host if port is None else "%s:%d" % (host, port)
    default = {"http": 80, "https": 443}[scheme]
    host_hdr = host if port in (None, default) else "%s:%d" % (host, port)
    case = {
        "id": i, "mode": mode, "s3": s3, "service": service, "region": rng.choice(REGIONS),
        "method": rng.choice(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"]),
        "akid": rng.choice(["AKIDEXAMPLE", "test", "AKIA" + rand_text(rng, "ABCDEFXYZ0123456789", 16, 16)]),
        "secret": rand_text(rng, "abcdefABCDEF0123456789/+", 1, 50),
        "token": rng.choice([None, None, "FQoGZXIvYXdzE" + rand_text(rng, "abcXYZ09/+=", 10, 120)]),
        "time": FIXED_EPOCH, "expires": rng.choice([60, 900, 3600, 604800]),
        "scheme": scheme, "netloc": netloc, "host": host_hdr,
        "path": rand_path(rng, s3),
    }
    # Query: raw pairs (params style) or an already canonical query in the URL.
    pairs = []
    for _ in range(rng.choice([0, 0, 1, 2, 3, 5])):
        key = rand_text(rng, QUERY_CHARS, 0 if mode == "header" else 1, 6)
        if mode == "query":
            key = key.replace("+", "p")
        value = rand_text(rng, QUERY_CHARS, 0, 10)
        if mode == "query":
            value = value.replace("+", "p")
        pairs.append((key, value))
        if mode == "header" and rng.random() < 0.3:
            pairs.append((key, rand_text(rng, QUERY_CHARS, 0, 4)))  # repeated key
    if mode == "query":
        seen, uniq = set(), []
        for k, v in pairs:
            if k not in seen and k.upper() not in ("X-AMZ-SIGNATURE",):
                seen.add(k)
                uniq.append((k, v))
        pairs = uniq
    case["pairs"] = pairs
    case["query_style"] = rng.choice(["params", "url"]) if mode == "header" else "url"
    enc = [percent_encode(k) + "=" + percent_encode(v) for k, v in pairs]
    rng.shuffle(enc)
    if rng.random() < 0.3:  # "k=" and "k" mean the same
        enc = [e[:-1] if e.endswith("=") and len(e) > 1 else e for e in enc]
    case["query"] = "&".join(enc)
    headers = []
    for _ in range(rng.randint(0, 5)):
        headers.append([rng.choice(HEADER_NAMES), rand_header_value(rng)])
    if rng.random() < 0.3:
        headers.append(["Host", host_hdr])
    if mode == "header" and not s3 and rng.random() < 0.15:
        headers.append(["X-Amz-Content-SHA256", rng.choice(["UNSIGNED-PAYLOAD", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"])])
    if mode == "query" and not s3:
        # botocore's presigner drops this exact content type; don't send it.
        headers = [h for h in headers if h[0].lower() != "content-type"]
    case["headers"] = headers
    body = b""
    if mode == "header" and rng.random() < 0.6:
        body = rng.choice([b"{}", b'{"QueueUrl":"http://127.0.0.1:4566/000000000000/q","MessageBody":"hi"}',
                           bytes(rng.randrange(256) for _ in range(rng.randint(1, 300)))])
    case["body_hex"] = binascii.hexlify(body).decode()
    return case


def botocore_sign(case):
    creds = Credentials(case["akid"], case["secret"], case["token"])
    url = "%s://%s%s" % (case["scheme"], case["netloc"], case["path"])
    params = None
    if case["query_style"] == "url" and case["query"]:
        url += "?" + case["query"]
    elif case["query_style"] == "params":
        params = list(case["pairs"])
    body = binascii.unhexlify(case["body_hex"])
    req = AWSRequest(method=case["method"], url=url, data=body or None, params=params)
    for name, value in case["headers"]:
        req.headers[name] = value  # HTTPHeaders appends: duplicates are kept
    if case["mode"] == "query":
        cls = botocore.auth.S3SigV4QueryAuth if case["s3"] else botocore.auth.SigV4QueryAuth
        signer = cls(creds, case["service"], case["region"], expires=case["expires"])
    else:
        cls = botocore.auth.S3SigV4Auth if case["s3"] else botocore.auth.SigV4Auth
        signer = cls(creds, case["service"], case["region"])
    signer.add_auth(req)
    canonical = signer.canonical_request(req)
    if case["mode"] == "query":
        sig = req.url.rsplit("X-Amz-Signature=", 1)[1]
        wire_query = req.url.split("?", 1)[1]
    else:
        sig = req.headers["Authorization"].rsplit("Signature=", 1)[1]
        wire_query = case["query"]
    verify = dict(case, mode="verify", query=wire_query, headers=[[k, v] for k, v in req.headers.items()])
    return sig, canonical, verify


def main():
    if len(sys.argv) != 2:
        print("usage: sigv4_botocore.py SIGN_TOOL", file=sys.stderr)
        return 2
    rng = random.Random(SEED)
    cases = [make_case(rng, i) for i in range(N_CASES)]
    signed = [botocore_sign(c) for c in cases]
    verify_cases = [dict(v, id=N_CASES + c["id"]) for c, (_, _, v) in zip(cases, signed)]
    lines = "".join(json.dumps(c) + "\n" for c in cases + verify_cases)
    out = subprocess.run([sys.argv[1]], input=lines.encode(), capture_output=True, timeout=60)
    if out.returncode != 0:
        print("sign tool failed: %s" % out.stderr.decode(errors="replace"))
        print("0 passed, 1 failed")
        return 1
    ours = {}
    for line in out.stdout.decode().splitlines():
        r = json.loads(line)
        ours[r["id"]] = r
    passed = failed = 0
    kinds = {}
    for c in cases:
        kind = "%s%s" % ("s3-" if c["s3"] else "", c["mode"])
        kinds[kind] = kinds.get(kind, 0) + 1
        want, canon, _ = signed[c["id"]]
        got = ours.get(c["id"], {})
        ver = ours.get(N_CASES + c["id"], {})
        sign_ok, verify_ok = got.get("signature") == want, ver.get("verdict") == 0
        passed += sign_ok + verify_ok
        failed += (not sign_ok) + (not verify_ok)
        if (not sign_ok or not verify_ok) and failed <= 5:
            print("case %d (%s, %s): ours %s botocore %s; verify of botocore's request: %s" % (
                c["id"], kind, c["service"], got.get("signature") or got.get("error"), want,
                ver.get("code")))
            print("--- request\n%s" % json.dumps(c, ensure_ascii=False))
            print("--- botocore canonical\n%s\n--- ours (sign)\n%s\n--- ours (verify)\n%s" % (
                canon, got.get("canonical"), ver.get("canonical")))
    print("cases: " + ", ".join("%s %d" % kv for kv in sorted(kinds.items()))
          + "; each signed by both and verified by cm_sigv4_verify")
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and passed >= 400 else 1


if __name__ == "__main__":
    sys.exit(main())
