import type { RecordStore, StoredRecord } from "@gantry/core";
import { BucketError } from "./bucket-errors.ts";
import type { LocalBuckets, PutOptions } from "./buckets.ts";

/**
 * A record store over one local bucket: what the state bucket is in AWS (S3RecordStore), with
 * its answers: a conditional write that loses returns undefined, never throws.
 */
export class BucketRecords implements RecordStore {
  readonly #buckets: LocalBuckets;
  readonly #bucket: string;

  constructor(buckets: LocalBuckets, bucket: string) {
    this.#buckets = buckets;
    this.#bucket = bucket;
  }

  /**
   * The record, or undefined. A lock whose bytes do not match their checksum (left in place
   * and reported: buckets.ts, StateBucket) is refused with a SyntaxError, as bytes that are not
   * JSON are, even when the damaged bytes still parse: readers tell it as damaged
   * (AcquireLock: `LockDamaged`), never as a lock someone holds or left.
   */
  async get<T>(key: string): Promise<StoredRecord<T> | undefined> {
    const object = await this.#buckets.get({ bucket: this.#bucket, key });
    if (object?.damaged !== undefined)
      throw new SyntaxError(`s3://${this.#bucket}/${key} is damaged: ${object.damaged}`);
    return (
      object && { value: JSON.parse(object.bytes.toString("utf8")) as T, etag: object.meta.etag }
    );
  }
  create<T>(key: string, value: T): Promise<StoredRecord<T> | undefined> {
    return this.#write(key, value, { ifNoneMatch: "*" });
  }
  replace<T>(key: string, value: T, etag: string): Promise<StoredRecord<T> | undefined> {
    return this.#write(key, value, { ifMatch: etag });
  }
  async put<T>(key: string, value: T): Promise<void> {
    await this.#write(key, value, {});
  }
  delete(key: string, etag: string): Promise<boolean> {
    return this.#buckets.delete({ bucket: this.#bucket, key }, etag);
  }
  list(prefix: string): Promise<string[]> {
    return this.#buckets.list(this.#bucket, prefix);
  }
  async #write<T>(
    key: string,
    value: T,
    options: PutOptions,
  ): Promise<StoredRecord<T> | undefined> {
    try {
      const meta = await this.#buckets.put(
        { bucket: this.#bucket, key },
        Buffer.from(JSON.stringify(value)),
        options,
      );
      return { value, etag: meta.etag };
    } catch (error) {
      if (error instanceof BucketError && error.name === "PreconditionFailed") return undefined;
      // If-Match on a record that is gone: as the S3 adapter, "it changed".
      if (error instanceof BucketError && error.name === "NoSuchKey" && options.ifMatch)
        return undefined;
      throw error;
    }
  }
}
