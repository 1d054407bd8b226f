import { describe, expect, it } from "vitest";
import { decodeAwsChunked } from "./aws-chunked.ts";

async function decode(body: string | Buffer, splitEvery = 0) {
  const bytes = Buffer.from(body);
  const pieces: Buffer[] = [];
  if (splitEvery > 0)
    for (let i = 0; i < bytes.length; i += splitEvery)
      pieces.push(bytes.subarray(i, i + splitEvery));
  else pieces.push(bytes);
  const trailers: Record<string, string> = {};
  const out: Buffer[] = [];
  for await (const chunk of decodeAwsChunked(
    (async function* () {
      yield* pieces;
    })(),
    trailers,
  ))
    out.push(chunk);
  return { payload: Buffer.concat(out).toString(), trailers };
}

describe("aws-chunked decoding", () => {
  it("decodes the JS SDK's unsigned body with a trailing CRC32", async () => {
    // As @aws-sdk/client-s3 sent it for a stream body (STREAMING-UNSIGNED-PAYLOAD-TRAILER).
    const body = "b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
    expect(await decode(body)).toEqual({
      payload: "hello world",
      trailers: { "x-amz-checksum-crc32": "DUoRhQ==" },
    });
  });

  it("decodes however the body is split across reads", async () => {
    const body =
      "5;chunk-signature=abc\r\nhello\r\n6;chunk-signature=def\r\n world\r\n0;chunk-signature=0\r\nx-amz-checksum-sha256:xyz\r\nx-amz-trailer-signature:sig\r\n\r\n";
    for (const split of [1, 2, 3, 7, 1000]) {
      expect(await decode(body, split)).toEqual({
        payload: "hello world",
        trailers: { "x-amz-checksum-sha256": "xyz", "x-amz-trailer-signature": "sig" },
      });
    }
  });

  it("accepts a body without trailers, and one that ends right after its last trailer line", async () => {
    expect((await decode("3\r\nabc\r\n0\r\n\r\n")).payload).toBe("abc");
    expect((await decode("3\r\nabc\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n")).trailers).toEqual({
      "x-amz-checksum-crc32": "AAAAAA==",
    });
  });

  it.each([
    ["a body that stops early", "5\r\nhel", "IncompleteBody"],
    ["no final chunk", "3\r\nabc\r\n", "IncompleteBody"],
    ["a bad chunk size", "zz\r\nabc\r\n0\r\n\r\n", "InvalidRequest"],
    ["a chunk longer than its size", "2\r\nabc\r\n0\r\n\r\n", "InvalidRequest"],
  ])("refuses %s", async (_what, body, code) => {
    await expect(decode(body)).rejects.toMatchObject({ code });
  });
});
