import { ensureTestServices } from './services';

export default async function globalSetup(): Promise<void> {
  await ensureTestServices();
}
