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

/* Directive ids, mirrored by `Directive` in src/module.rs. */
enum {
    JK_RS_WORKERS_FILE = 1,
    JK_RS_WORKER_PROPERTY,
    JK_RS_MOUNT,
    JK_RS_UNMOUNT,
    JK_RS_LOG_FILE,
    JK_RS_LOG_LEVEL,
    JK_RS_SHM_FILE
};

#define ID(x) ((void *)(apr_uintptr_t)(x))

const command_rec jk_rs_cmds[] = {
    AP_INIT_TAKE1("JkWorkersFile", jk_rs_cmd_take1, ID(JK_RS_WORKERS_FILE), RSRC_CONF,
                  "the name of the workers definition file (workers.properties)"),
    AP_INIT_RAW_ARGS("JkWorkerProperty", jk_rs_cmd_raw, ID(JK_RS_WORKER_PROPERTY), RSRC_CONF,
                     "one workers.properties line: worker.<name>.<property>=<value>"),
    AP_INIT_TAKE12("JkMount", jk_rs_cmd_take12, ID(JK_RS_MOUNT), RSRC_CONF | ACCESS_CONF,
                   "a URI pattern and the worker that serves it (only the worker inside <Location>)"),
    AP_INIT_TAKE12("JkUnMount", jk_rs_cmd_take12, ID(JK_RS_UNMOUNT), RSRC_CONF | ACCESS_CONF,
                   "a URI pattern and the worker (or *) it must not be sent to"),
    AP_INIT_TAKE1("JkLogFile", jk_rs_cmd_take1, ID(JK_RS_LOG_FILE), RSRC_CONF,
                  "the connector log file (messages also go to httpd's ErrorLog)"),
    AP_INIT_TAKE1("JkLogLevel", jk_rs_cmd_take1, ID(JK_RS_LOG_LEVEL), RSRC_CONF,
                  "the connector log level: trace, debug, info, warn, error or emerg"),
    AP_INIT_TAKE1("JkShmFile", jk_rs_cmd_take1, ID(JK_RS_SHM_FILE), RSRC_CONF,
                  "the shared memory file for worker state"),
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
