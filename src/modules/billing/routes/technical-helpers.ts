// The technical-data page's helpers from the original frontend (DataTeknisView): the OLTs, PPPoE profiles and VLANs
// already in use for its choice lists, and whether an IP address is taken before the form is saved. Declared
// before `/api/data_teknis/:id`, whose path they would otherwise match.
import { Type } from 'typebox';
import type { Core } from '../../../core/context.ts';
import type { Router } from '../../../core/http/route.ts';
import { BILLING_LIMITS } from '../limits.ts';
import { distinctValues, ipHolder, onuPowerBounds } from '../repo/technical.ts';

/**
 * The ONU receive-power bands the list filters by (`onu_power_min`/`onu_power_max`, dBm): above -24 is a good
 * signal, -27 to -24 fair, below -27 weak (the usual GPON thresholds).
 */
const ONU_POWER_BANDS = [
  { label: 'Sinyal Baik (> -24 dBm)', min: -23, max: 0 },
  { label: 'Sinyal Sedang (-27 s/d -24 dBm)', min: -27, max: -24 },
  { label: 'Sinyal Lemah (< -27 dBm)', min: -50, max: -28 },
];
const Band = Type.Object({ label: Type.String(), min: Type.Number(), max: Type.Number() });

const CheckIp = Type.Object({
  ip_address: Type.String({ format: 'ipv4', description: 'dotted IPv4 address' }),
  current_id: Type.Optional(
    Type.Union([Type.Integer({ minimum: 1, maximum: 2_147_483_647 }), Type.Null()], {
      description: 'the technical data being edited (its own address is not "taken")',
    }),
  ),
});
const CheckIpAnswer = Type.Object({
  is_taken: Type.Boolean(),
  message: Type.String(),
  owner_id: Type.Union([Type.Integer(), Type.Null()], { description: 'the customer (pelanggan_id) holding it' }),
});

export function registerTechnicalHelperRoutes(router: Router, core: Core): void {
  const { db } = core.database;
  const auth = { level: 1 } as const;
  const limits = [BILLING_LIMITS.general];

  for (const [path, column, what] of [
    ['available-olt', 'olt', 'OLT names'],
    ['available-profiles', 'profile_pppoe', 'PPPoE profiles'],
    ['available-vlans', 'vlan', 'VLAN ids (as text)'],
  ] as const) {
    router.get(
      `/api/data_teknis/${path}`,
      { auth, limits, schema: { summary: `The ${what} in use, sorted`, response: { 200: Type.Array(Type.String()) } } },
      () => distinctValues(db, column),
    );
  }

  router.get(
    '/api/data_teknis/onu-power-ranges',
    {
      auth,
      limits,
      schema: {
        summary: 'The ONU power recorded (lowest, highest) and the signal bands the list filters by',
        response: { 200: Type.Object({ min: Type.Number(), max: Type.Number(), ranges: Type.Array(Band) }) },
      },
    },
    async () => ({ ...(await onuPowerBounds(db)), ranges: ONU_POWER_BANDS }),
  );

  router.post(
    '/api/data_teknis/check-ip',
    {
      auth,
      limits,
      schema: {
        summary: "Is this IP address already a customer's? (the form checks before saving)",
        body: CheckIp,
        response: { 200: CheckIpAnswer },
      },
    },
    async (req) => {
      const holder = await ipHolder(db, req.body.ip_address, req.body.current_id ?? undefined);
      return holder
        ? {
            is_taken: true,
            message: `IP ${req.body.ip_address} is already used by another customer`,
            owner_id: holder.pelanggan_id,
          }
        : { is_taken: false, message: `IP ${req.body.ip_address} is available`, owner_id: null };
    },
  );
}
