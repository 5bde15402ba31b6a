/** Cookie headers naming a guest, signed as the demo's pages sign them. */
import { GUEST_COOKIE, processGuestIdentity, type GuestIdentity } from '../accounts/guest-identity.js';

/** `sb_guest=<name>.<signature>` for `name`, signed by `identity` (default: this process's, as unit-test apps use). */
export function guestCookie(name: string, identity: GuestIdentity = processGuestIdentity()): string {
  return `${GUEST_COOKIE}=${identity.cookieValue(name)}`;
}
