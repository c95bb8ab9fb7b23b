{# USES_VARIABLES { _n_sources, _n_targets, delay, _source_dt} #}
{#
brian_edff: a zero-delay pathway takes this step's events straight from the
source's eventspace (no copy of synapse indices into a spike queue); other
pathways push into Brian2's queue as cpp_standalone does.
#}
{% extends 'common_group.cpp' %}

{% block before_code %}
    {% set scalar = c_data_type(variables['delay'].dtype) %}
    std::vector<{{scalar}}> &real_delays = {{get_array_name(variables['delay'], access_data=False)}};
    {{scalar}}* real_delays_data = real_delays.empty() ? 0 : &(real_delays[0]);
    int32_t* sources = {{owner.name}}.sources.empty() ? 0 : &({{owner.name}}.sources[0]);
    const size_t n_delays = real_delays.size();
    const size_t n_synapses = {{owner.name}}.sources.size();
    {{owner.name}}.prepare_direct({{constant_or_scalar('_n_sources', variables['_n_sources'])}},
                                  {{constant_or_scalar('_n_targets', variables['_n_targets'])}},
                                  real_delays_data, n_delays, sources,
                                  n_synapses,
                                  {{_source_dt}});
{% endblock %}

{% block maincode %}
    {% set _eventspace = get_array_name(eventspace_variable) %}
    if ({{owner.name}}.direct)
    {
        {{owner.name}}.set_events({{_eventspace}}, {{_eventspace}}[_num{{eventspace_variable.name}}-1]);
    }
    else
    {
        {{openmp_pragma('parallel')}}
        {
            {{owner.name}}.advance();
            {{owner.name}}.push({{_eventspace}}, {{_eventspace}}[_num{{eventspace_variable.name}}-1]);
        }
    }
{% endblock %}
