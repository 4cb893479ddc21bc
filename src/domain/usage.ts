/** A usage quantity recorded against a metered subscription. */
export interface UsageRecord {
  id: string;
  subscriptionId: string;
  quantity: bigint;
  occurredAt: Date;
  providerRef?: string;
  createdAt: Date;
}
