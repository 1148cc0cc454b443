/**
 * Imported by the benchmarks that run the Lambda handlers in-process before they load them
 * (`npm run fuzz` first of all, the cloud path of `npm run bench` before its detect handler): the
 * handlers' Powertools logger and metrics print a line per evaluation, hundreds of thousands in a
 * run, which bury the run's own report. A value given in the environment is kept, so
 * `POWERTOOLS_LOG_LEVEL=INFO npm run fuzz` still shows the logs. The SDK's warning about this
 * machine's Node version goes too, as in the CLI.
 */
process.env['POWERTOOLS_LOG_LEVEL'] ??= 'SILENT';
process.env['POWERTOOLS_METRICS_DISABLED'] ??= 'true';
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

// A module (nothing to export): its side effects are what importers want.
export {};
