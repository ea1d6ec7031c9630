/* The thin C shim of mod_jk_rs: only what C macros express (hook registration, httpd's
 * variadic logging, the brigade ring macros); the command table is built in Rust from the one
 * list of directives (src/directives/list.rs). Every function here
 * forwards to one Rust function or one httpd call and holds no logic. */
#include "wrapper.h"

/* The hook functions, all Rust (src/httpd/hooks.rs builds this table from the safe shell). */
struct jk_rs_hooks {
    int (*pre_config)(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp);
    int (*check_config)(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s);
    int (*post_config)(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s);
    void (*child_init)(apr_pool_t *pchild, server_rec *s);
    int (*translate_name)(request_rec *r);
    int (*map_to_storage)(request_rec *r);
    int (*handler)(request_rec *r);
};

void jk_rs_register_hooks(const struct jk_rs_hooks *h)
{
    ap_hook_pre_config(h->pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(h->check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(h->post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(h->child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_translate_name(h->translate_name, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_map_to_storage(h->map_to_storage, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(h->handler, NULL, NULL, APR_HOOK_MIDDLE);
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
