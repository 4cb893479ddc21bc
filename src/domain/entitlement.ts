/** A feature a customer may use, granted by a subscription while it grants access. */
export interface Entitlement {
  id: string;
  customerId: string;
  featureKey: string;
  subscriptionId?: string;
  activeFrom: Date;
  /** Unset while open-ended; set to the period end when a cancel is scheduled, or to the revocation time. */
  activeUntil?: Date;
  providerNative: boolean;
}
