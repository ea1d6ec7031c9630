/* The thin C shim of mod_jk_rs: only what C macros express (the command table, hook
 * registration, httpd's variadic logging, the brigade ring macros). Every function here
 * forwards to one Rust function or one httpd call and holds no logic. */
#include "wrapper.h"

/* ---- Rust entry points (src/module.rs) ---- */
const char *jk_rs_cmd_take1(cmd_parms *cmd, void *mconfig, const char *a1);
const char *jk_rs_cmd_take12(cmd_parms *cmd, void *mconfig, const char *a1, const char *a2);
const char *jk_rs_cmd_raw(cmd_parms *cmd, void *mconfig, const char *args);
const char *jk_rs_cmd_flag(cmd_parms *cmd, void *mconfig, int on);
int jk_rs_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp);
int jk_rs_check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s);
int jk_rs_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s);
void jk_rs_child_init(apr_pool_t *pchild, server_rec *s);
int jk_rs_translate_name(request_rec *r);
int jk_rs_map_to_storage(request_rec *r);
int jk_rs_handler(request_rec *r);

/* Directive ids, mirrored by `Directive` in src/settings.rs. */
enum {
    JK_WORKERS_FILE = 1, JK_WORKER_PROPERTY, JK_MOUNT, JK_UNMOUNT, JK_LOG_FILE, JK_LOG_LEVEL,
    JK_SHM_FILE, JK_SHM_SIZE, JK_MOUNT_FILE, JK_MOUNT_FILE_RELOAD, JK_MOUNT_COPY, JK_AUTO_ALIAS,
    JK_WORKER_INDICATOR, JK_WATCHDOG_INTERVAL, JK_LOG_STAMP_FORMAT, JK_REQUEST_LOG_FORMAT,
    JK_EXTRACT_SSL, JK_HTTPS_INDICATOR, JK_SSLPROTOCOL_INDICATOR, JK_CERTS_INDICATOR,
    JK_CIPHER_INDICATOR, JK_CERTCHAIN_PREFIX, JK_SESSION_INDICATOR, JK_KEYSIZE_INDICATOR,
    JK_REQUEST_ID_INDICATOR, JK_REMOTE_ADDR_INDICATOR, JK_REMOTE_PORT_INDICATOR,
    JK_REMOTE_HOST_INDICATOR, JK_REMOTE_USER_INDICATOR, JK_AUTH_TYPE_INDICATOR,
    JK_LOCAL_NAME_INDICATOR, JK_LOCAL_ADDR_INDICATOR, JK_LOCAL_PORT_INDICATOR,
    JK_IGNORE_CL_INDICATOR, JK_OPTIONS, JK_ENV_VAR, JK_STRIP_SESSION
};

#define ID(x) ((void *)(apr_uintptr_t)(x))
#define T1(name, id, help) AP_INIT_TAKE1(name, jk_rs_cmd_take1, ID(id), RSRC_CONF, help)
#define IND(name, id) T1(name, id, "name of the environment variable that carries this value")

const command_rec jk_rs_cmds[] = {
    T1("JkWorkersFile", JK_WORKERS_FILE, "the workers definition file (workers.properties)"),
    AP_INIT_RAW_ARGS("JkWorkerProperty", jk_rs_cmd_raw, ID(JK_WORKER_PROPERTY), RSRC_CONF,
                     "one workers.properties line: worker.<name>.<property>=<value>"),
    AP_INIT_TAKE12("JkMount", jk_rs_cmd_take12, ID(JK_MOUNT), RSRC_CONF | ACCESS_CONF,
                   "a URI pattern and the worker that serves it (only the worker inside <Location>)"),
    AP_INIT_TAKE12("JkUnMount", jk_rs_cmd_take12, ID(JK_UNMOUNT), RSRC_CONF | ACCESS_CONF,
                   "a URI pattern and the worker (or *) it must not be sent to"),
    T1("JkLogFile", JK_LOG_FILE, "the connector log file (messages go to httpd's ErrorLog)"),
    T1("JkLogLevel", JK_LOG_LEVEL, "trace, debug, info, warn, error or emerg"),
    T1("JkShmFile", JK_SHM_FILE, "the shared memory file for worker state"),
    T1("JkShmSize", JK_SHM_SIZE, "shared memory size in KB (sized automatically)"),
    T1("JkMountFile", JK_MOUNT_FILE, "a uriworkermap.properties file of mount rules"),
    T1("JkMountFileReload", JK_MOUNT_FILE_RELOAD, "seconds between checks of JkMountFile (0: never)"),
    T1("JkMountCopy", JK_MOUNT_COPY, "On/Off: copy the main server's mounts (All: into every vhost)"),
    T1("JkAutoAlias", JK_AUTO_ALIAS, "the Tomcat webapps directory to serve static files from"),
    T1("JkWorkerIndicator", JK_WORKER_INDICATOR, "environment variable naming the worker"),
    T1("JkWatchdogInterval", JK_WATCHDOG_INTERVAL, "seconds between maintenance runs (0: per request)"),
    T1("JkLogStampFormat", JK_LOG_STAMP_FORMAT, "timestamp format of the connector log"),
    T1("JkRequestLogFormat", JK_REQUEST_LOG_FORMAT, "format of the connector request log"),
    AP_INIT_FLAG("JkExtractSSL", jk_rs_cmd_flag, ID(JK_EXTRACT_SSL), RSRC_CONF,
                 "On/Off: forward SSL information to the backend"),
    IND("JkHTTPSIndicator", JK_HTTPS_INDICATOR),
    IND("JkSSLPROTOCOLIndicator", JK_SSLPROTOCOL_INDICATOR),
    IND("JkCERTSIndicator", JK_CERTS_INDICATOR),
    IND("JkCIPHERIndicator", JK_CIPHER_INDICATOR),
    T1("JkCERTCHAINPrefix", JK_CERTCHAIN_PREFIX, "prefix of the client certificate chain variables"),
    IND("JkSESSIONIndicator", JK_SESSION_INDICATOR),
    IND("JkKEYSIZEIndicator", JK_KEYSIZE_INDICATOR),
    IND("JkRequestIdIndicator", JK_REQUEST_ID_INDICATOR),
    IND("JkRemoteAddrIndicator", JK_REMOTE_ADDR_INDICATOR),
    IND("JkRemotePortIndicator", JK_REMOTE_PORT_INDICATOR),
    IND("JkRemoteHostIndicator", JK_REMOTE_HOST_INDICATOR),
    IND("JkRemoteUserIndicator", JK_REMOTE_USER_INDICATOR),
    IND("JkAuthTypeIndicator", JK_AUTH_TYPE_INDICATOR),
    IND("JkLocalNameIndicator", JK_LOCAL_NAME_INDICATOR),
    IND("JkLocalAddrIndicator", JK_LOCAL_ADDR_INDICATOR),
    IND("JkLocalPortIndicator", JK_LOCAL_PORT_INDICATOR),
    IND("JkIgnoreCLIndicator", JK_IGNORE_CL_INDICATOR),
    AP_INIT_RAW_ARGS("JkOptions", jk_rs_cmd_raw, ID(JK_OPTIONS), RSRC_CONF,
                     "+/- ForwardURIProxy, ForwardDirectories, FlushPackets, DisableReuse, ..."),
    AP_INIT_TAKE12("JkEnvVar", jk_rs_cmd_take12, ID(JK_ENV_VAR), RSRC_CONF,
                   "an environment variable to forward as a request attribute, and its default"),
    AP_INIT_TAKE12("JkStripSession", jk_rs_cmd_take12, ID(JK_STRIP_SESSION), RSRC_CONF,
                   "On/Off, and the path parameter name: strip session ids from unmapped URIs"),
    {NULL}
};

void jk_rs_register_hooks(apr_pool_t *p)
{
    (void)p;
    ap_hook_pre_config(jk_rs_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(jk_rs_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(jk_rs_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(jk_rs_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_translate_name(jk_rs_translate_name, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_map_to_storage(jk_rs_map_to_storage, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(jk_rs_handler, NULL, NULL, APR_HOOK_MIDDLE);
}

/* Non-variadic logging: the message is always passed through "%s", never as a format. */
void jk_rs_log_error(const char *file, int line, int module_index, int level, apr_status_t status,
                     const server_rec *s, const char *msg)
{
    ap_log_error_(file, line, module_index, level, status, s, "%s", msg);
}

void jk_rs_log_rerror(const char *file, int line, int module_index, int level, apr_status_t status,
                      const request_rec *r, const char *msg)
{
    ap_log_rerror_(file, line, module_index, level, status, r, "%s", msg);
}

/* Brigade ring macros. */
void jk_rs_brigade_insert_tail(apr_bucket_brigade *bb, apr_bucket *e)
{
    APR_BRIGADE_INSERT_TAIL(bb, e);
}

int jk_rs_brigade_is_empty(apr_bucket_brigade *bb)
{
    return APR_BRIGADE_EMPTY(bb);
}

int jk_rs_brigade_last_is_eos(apr_bucket_brigade *bb)
{
    return !APR_BRIGADE_EMPTY(bb) && APR_BUCKET_IS_EOS(APR_BRIGADE_LAST(bb));
}
