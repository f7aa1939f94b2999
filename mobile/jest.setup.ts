import { connectNotice } from '@/components/amo-crm/connectNotice';
import { resetExchangesForTests } from '@/components/amo-crm/useAmoCrmReturn';
import { crmListState } from '@/components/crm/crmListState';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const secureStore = require('expo-secure-store') as { __reset(): void };

beforeEach(() => {
  secureStore.__reset();
  connectNotice.clear();
  resetExchangesForTests();
  crmListState.reset();
});
