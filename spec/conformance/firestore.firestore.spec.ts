import { firestoreHarness } from '../support/firestore-harness.ts';
import { exerciseAdapter } from './exercise-adapter.ts';

exerciseAdapter('firestore × firestore emulator', 'firestore', firestoreHarness as never);
