import { userInfo } from 'node:os';

/** The user name for metadata; containers without a passwd entry make userInfo throw. */
export function currentUsername(): string {
  try {
    return userInfo().username;
  } catch {
    return '';
  }
}
