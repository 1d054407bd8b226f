import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type PutObjectCommandInput,
  type S3Client,
} from "@aws-sdk/client-s3";
import type { RecordBytes, RecordBytesReader, RecordStore, StoredRecord } from "@gantry/core";
import { aws } from "./errors.ts";
import { isNotFound, isPreconditionFailed } from "./s3-artifacts.ts";

/**
 * Locks, approvals and deployment records as JSON objects in the stage's state bucket. S3's
 * conditional writes (If-None-Match: * to create, If-Match: <etag> to replace or delete) make the
 * lock and the single-use approval decision atomic without a database.
 *
 * @example
 * ```ts
 * const records = new S3RecordStore(new S3Client({}), "acme-gantry-state-prod");
 * const lock = await records.create("locks/hello-service.json", { owner: executionArn });
 * if (!lock) console.log("someone else holds it");
 * ```
 */
export class S3RecordStore implements RecordStore, RecordBytesReader {
  readonly #s3: S3Client;
  readonly #bucket: string;

  constructor(s3: S3Client, bucket: string) {
    this.#s3 = s3;
    this.#bucket = bucket;
  }

  async get<T>(key: string): Promise<StoredRecord<T> | undefined> {
    try {
      const out = await aws("GetObject", () =>
        this.#s3.send(new GetObjectCommand({ Bucket: this.#bucket, Key: key })),
      );
      const text = (await out.Body?.transformToString("utf8")) ?? "";
      return { value: JSON.parse(text) as T, etag: out.ETag ?? "" };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async getBytes(key: string): Promise<RecordBytes | undefined> {
    try {
      const out = await aws("GetObject", () =>
        this.#s3.send(new GetObjectCommand({ Bucket: this.#bucket, Key: key })),
      );
      return {
        bytes: (await out.Body?.transformToByteArray()) ?? new Uint8Array(),
        etag: out.ETag ?? "",
      };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  create<T>(key: string, value: T): Promise<StoredRecord<T> | undefined> {
    return this.#write(key, value, { IfNoneMatch: "*" });
  }

  replace<T>(key: string, value: T, etag: string): Promise<StoredRecord<T> | undefined> {
    return this.#write(key, value, { IfMatch: etag });
  }

  async put<T>(key: string, value: T): Promise<void> {
    await this.#write(key, value, {});
  }

  async delete(key: string, etag: string): Promise<boolean> {
    try {
      await aws("DeleteObject", () =>
        this.#s3.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: key, IfMatch: etag })),
      );
      return true;
    } catch (error) {
      if (isPreconditionFailed(error) || isNotFound(error)) return false;
      throw error;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const out = await aws("ListObjectsV2", () =>
        this.#s3.send(
          new ListObjectsV2Command({
            Bucket: this.#bucket,
            Prefix: prefix,
            ContinuationToken: token,
          }),
        ),
      );
      for (const item of out.Contents ?? []) if (item.Key) keys.push(item.Key);
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  async #write<T>(
    key: string,
    value: T,
    condition: Pick<PutObjectCommandInput, "IfMatch" | "IfNoneMatch">,
  ): Promise<StoredRecord<T> | undefined> {
    try {
      const out = await aws("PutObject", () =>
        this.#s3.send(
          new PutObjectCommand({
            Bucket: this.#bucket,
            Key: key,
            Body: JSON.stringify(value),
            ContentType: "application/json",
            ...condition,
          }),
        ),
      );
      return { value, etag: out.ETag ?? "" };
    } catch (error) {
      if (isPreconditionFailed(error)) return undefined;
      // A replace (If-Match) of a record that is gone: S3 answers 404, and it did change.
      if (condition.IfMatch !== undefined && isNotFound(error)) return undefined;
      throw error;
    }
  }
}
