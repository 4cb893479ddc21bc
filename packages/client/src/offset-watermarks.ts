/** A topic-partition's offset to commit: the next one the group's next consumer must read. */
export interface PartitionOffset {
  topic: string;
  partition: number;
  offset: string;
}

interface Delivery {
  offset: bigint;
  settled: boolean;
}

/**
 * One partition's deliveries in offset order. Its watermark is the lowest offset not settled yet, or the one after
 * the last delivered when all are: everything below it was handled or dropped, so committing it loses nothing.
 */
class PartitionLedger {
  private readonly deliveries: Delivery[] = [];
  /** Index of the oldest delivery that may still be unsettled; those before it are settled and forgotten. */
  private head = 0;
  private next: bigint | undefined;
  committed: bigint | undefined;

  /** Undefined when the offset was delivered before: kafkajs redelivers from the last commit after a rebalance. */
  track(offset: bigint): Delivery | undefined {
    if (this.next !== undefined && offset < this.next) return undefined;
    const delivery = { offset, settled: false };
    this.deliveries.push(delivery);
    this.next = offset + 1n;
    return delivery;
  }

  watermark(): bigint | undefined {
    while (this.head < this.deliveries.length && this.deliveries[this.head]!.settled) this.head++;
    // Compacted now and then, so a long-lived partition does not keep every delivery it ever had.
    if (this.head > 1_000 && this.head * 2 > this.deliveries.length) {
      this.deliveries.splice(0, this.head);
      this.head = 0;
    }
    return this.deliveries[this.head]?.offset ?? this.next;
  }
}

/** The watermarks of the partitions this consumer owns, and how many of its deliveries are still unsettled. */
export class OffsetWatermarks {
  private readonly ledgers = new Map<string, { topic: string; partition: number; ledger: PartitionLedger }>();
  private unsettledCount = 0;

  constructor(private readonly onSettled: () => void) {}

  get unsettled(): number {
    return this.unsettledCount;
  }

  /**
   * Records a delivered message; returns how to settle it (once handled, or dropped), or undefined when this offset
   * was already delivered to this consumer and its first delivery will settle it.
   */
  track(topic: string, partition: number, offset: string): (() => void) | undefined {
    const id = `${partition}:${topic}`;
    let entry = this.ledgers.get(id);
    if (!entry) {
      entry = { topic, partition, ledger: new PartitionLedger() };
      this.ledgers.set(id, entry);
    }
    const delivery = entry.ledger.track(BigInt(offset));
    if (!delivery) return undefined;
    this.unsettledCount++;
    return () => {
      if (delivery.settled) return;
      delivery.settled = true;
      this.unsettledCount--;
      this.onSettled();
    };
  }

  /**
   * Forgets the partitions not in `assignment` (kafkajs's memberAssignment after a rebalance): they belong to another
   * member now, which reads them from our last commit, so we must not commit them again. Their deliveries still
   * waiting here settle into the void.
   */
  retain(assignment: Record<string, number[]>): void {
    for (const [id, { topic, partition }] of this.ledgers) {
      if (!assignment[topic]?.includes(partition)) this.ledgers.delete(id);
    }
  }

  /** The watermarks that moved since they were last committed. */
  due(): PartitionOffset[] {
    const due: PartitionOffset[] = [];
    for (const { topic, partition, ledger } of this.ledgers.values()) {
      const watermark = ledger.watermark();
      if (watermark !== undefined && watermark !== ledger.committed) {
        due.push({ topic, partition, offset: watermark.toString() });
      }
    }
    return due;
  }

  /** Records that `offsets` (from `due`) were committed. */
  committed(offsets: PartitionOffset[]): void {
    for (const { topic, partition, offset } of offsets) {
      const entry = this.ledgers.get(`${partition}:${topic}`);
      if (entry) entry.ledger.committed = BigInt(offset);
    }
  }
}
