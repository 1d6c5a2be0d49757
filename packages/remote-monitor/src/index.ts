export { remoteMonitor, REMOTE_MONITOR, type RemoteMonitorOptions } from './remote-monitor.js';
