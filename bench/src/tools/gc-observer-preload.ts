/** `node --import .../gc-observer-preload.js`: records this process's GC and event-loop delay (see gc-observer.ts). */
import { gcObserverDir, startGcObserver } from './gc-observer.js';

startGcObserver(gcObserverDir());
